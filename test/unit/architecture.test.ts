/**
 * The direction of src/'s imports, checked instead of remembered (issue 11, "Structure"). Every
 * relative import of every file under src/ is read, and the test fails, printing the offending
 * edges, when (1) files import each other in a cycle, (2) a file imports a folder of a higher
 * layer than its own, or (3) folders of one layer import each other in a cycle.
 *
 * Counted: `import … from`, `export … from`, dynamic `import()` and `import('…')` types.
 * Type-only imports count too. They are erased at run time, but they still say whose vocabulary a
 * file speaks, and the config ⇄ dns knot of issue 11 was made of them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * The layers, top first; a folder may import its own layer or a lower one. The first four are
 * issue 11's order: cli → run → (acme, challenge, plan, actions, server) → (config, dns, store)
 * → crypto. The issue does not name these, so they are placed here:
 * - `report` sits beside `run`. It formats what a run did, so it reads plan and actions types,
 *   and only `cli` and `run` use it.
 * - `broker` (the fleet broker of issue 9: an ACME server for devices and a client of the real CA)
 *   sits beside `run`: like a run, it drives acme, challenge, plan and server over config, dns
 *   and store, and only `cli` starts it. It may use run's `Issuer`; `run` never imports it.
 * - `process` (running commands in process groups of their own, for actions and the exec DNS
 *   provider) sits beside `crypto` at the bottom and imports nothing from src/.
 * Within a layer, folders may import each other as long as that makes no folder cycle.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['cli'],
  ['run', 'report', 'broker'],
  ['acme', 'challenge', 'plan', 'actions', 'server'],
  ['config', 'dns', 'store'],
  ['crypto', 'process'],
];

/** One import: files relative to src/ (`config/dns.ts`), and whether only types are imported. */
interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** The relative module specifiers `text` imports, with whether each brings types only. */
function importsOf(fileName: string, text: string): { spec: string; typeOnly: boolean }[] {
  const found: { spec: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : null;
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      found.push({ spec: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ spec: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      // A computed import() cannot be checked; src/ has none, and a new one fails here.
      if (!arg || !ts.isStringLiteralLike(arg)) throw new Error(`${fileName}: import() of a computed specifier`);
      found.push({ spec: arg.text, typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ spec: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true));
  return found.filter((i) => i.spec.startsWith('.'));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

/** Every import edge between files of src/. Targets outside src/ (package.json) are data, not layers. */
function srcEdges(): Edge[] {
  return sourceFiles(SRC).flatMap((file) =>
    importsOf(file, readFileSync(file, 'utf8'))
      .map(({ spec, typeOnly }) => ({ from: rel(file), to: rel(resolve(dirname(file), spec)), typeOnly }))
      .filter((e) => !e.to.startsWith('..')));
}

function rel(path: string): string {
  return relative(SRC, path).split(sep).join('/');
}

/** The folder a src/ file belongs to; a file directly in src/ (`x.ts`) counts as a folder of its own (`x`). */
function folderOf(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : file.replace(/\.ts$/, '');
}

/** The strongly connected components of more than one node, or of one node that imports itself. */
function cycles(edges: readonly { from: string; to: string }[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) visit(w);
      if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, low.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = stack.splice(stack.indexOf(v));
    if (component.length > 1 || next.get(v)?.includes(v)) found.push(component.sort());
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** The edges that close each cycle, one line each: `a.ts -> b.ts (type)`. */
function cycleReport(edges: readonly Edge[], key: (file: string) => string): string[] {
  const keyed = edges.map((e) => ({ ...e, a: key(e.from), b: key(e.to) })).filter((e) => e.a !== e.b || e.from === e.to);
  return cycles(keyed.map((e) => ({ from: e.a, to: e.b }))).map((component) =>
    `cycle {${component.join(', ')}}:\n` + [...new Set(keyed
      .filter((e) => component.includes(e.a) && component.includes(e.b))
      .map((e) => `  ${e.from} -> ${e.to}${e.typeOnly ? ' (type)' : ''}`))]
      .join('\n'));
}

/** Edges that import a higher layer, and folders that are in no layer. */
function layerViolations(edges: readonly Edge[], layers: readonly (readonly string[])[]): string[] {
  const level = (folder: string) => layers.findIndex((layer) => layer.includes(folder));
  const problems = new Set<string>();
  for (const e of edges) {
    for (const folder of [folderOf(e.from), folderOf(e.to)]) {
      if (level(folder) < 0) problems.add(`src/${folder} is in no layer: add it to LAYERS, saying why it sits there`);
    }
    const [from, to] = [level(folderOf(e.from)), level(folderOf(e.to))];
    if (from >= 0 && to >= 0 && to < from) {
      problems.add(`${e.from} -> ${e.to}${e.typeOnly ? ' (type)' : ''}: ${folderOf(e.from)} may not import ${folderOf(e.to)}, a higher layer`);
    }
  }
  return [...problems];
}

describe('architecture: src/ imports point one way', () => {
  const edges = srcEdges();

  it('finds the imports (sanity: the walk sees the tree)', () => {
    assert.ok(edges.length > 150, `only ${edges.length} imports found`);
    assert.ok(edges.some((e) => e.from === 'cli/main.ts'));
  });

  it('no file imports itself through others (file-level cycles)', () => {
    assert.deepEqual(cycleReport(edges, String), []);
  });

  it(`imports follow the layers: ${LAYERS.map((l) => l.join(', ')).join(' → ')}`, () => {
    assert.deepEqual(layerViolations(edges, LAYERS), []);
  });

  it('folders of one layer do not import each other in a cycle (folder-level cycles)', () => {
    assert.deepEqual(cycleReport(edges, folderOf), []);
  });
});

describe('architecture: the checks can fail', () => {
  const edge = (from: string, to: string, typeOnly = false): Edge => ({ from, to, typeOnly });

  it('every import form is found, type-only ones marked', () => {
    const text = [
      "import a from './a.ts';",
      "import type { B } from './b.ts';",
      "import { type C } from './c.ts';",
      "import { type D, d } from './d.ts';",
      "export { e } from './e.ts';",
      "export type { F } from './f.ts';",
      "const g = () => import('./g.ts');",
      "let h: typeof import('./h.ts');",
      "import './i.ts';",
      "import x from 'node:fs';",
    ].join('\n');
    assert.deepEqual(importsOf('x.ts', text), [
      { spec: './a.ts', typeOnly: false },
      { spec: './b.ts', typeOnly: true },
      { spec: './c.ts', typeOnly: true },
      { spec: './d.ts', typeOnly: false },
      { spec: './e.ts', typeOnly: false },
      { spec: './f.ts', typeOnly: true },
      { spec: './g.ts', typeOnly: false },
      { spec: './h.ts', typeOnly: true },
      { spec: './i.ts', typeOnly: false },
    ]);
  });

  it('an upward import is reported, naming the edge', () => {
    const bad = [edge('dns/providers/exec/provider.ts', 'actions/deploy.ts'), edge('run/execute.ts', 'cli/main.ts', true)];
    assert.deepEqual(layerViolations(bad, LAYERS), [
      'dns/providers/exec/provider.ts -> actions/deploy.ts: dns may not import actions, a higher layer',
      'run/execute.ts -> cli/main.ts (type): run may not import cli, a higher layer',
    ]);
    assert.deepEqual(layerViolations([edge('store/x.ts', 'crypto/keys.ts'), edge('plan/x.ts', 'actions/y.ts')], LAYERS), []);
  });

  it('a folder in no layer is reported', () => {
    assert.match(layerViolations([edge('elsewhere/a.ts', 'store/b.ts')], LAYERS)[0]!, /^src\/elsewhere is in no layer/);
  });

  it('a file cycle is reported with its edges, type-only or not', () => {
    const loop = [edge('a/x.ts', 'b/y.ts'), edge('b/y.ts', 'a/z.ts', true), edge('a/z.ts', 'a/x.ts'), edge('a/z.ts', 'c/w.ts')];
    assert.deepEqual(cycleReport(loop, String), [
      'cycle {a/x.ts, a/z.ts, b/y.ts}:\n  a/x.ts -> b/y.ts\n  b/y.ts -> a/z.ts (type)\n  a/z.ts -> a/x.ts',
    ]);
    assert.deepEqual(cycleReport([edge('a/x.ts', 'a/x.ts')], String), ['cycle {a/x.ts}:\n  a/x.ts -> a/x.ts']);
  });

  it('a folder cycle within one layer is reported; one-way imports are not', () => {
    assert.deepEqual(cycleReport([edge('config/a.ts', 'dns/b.ts'), edge('dns/c.ts', 'config/d.ts', true)], folderOf), [
      'cycle {config, dns}:\n  config/a.ts -> dns/b.ts\n  dns/c.ts -> config/d.ts (type)',
    ]);
    assert.deepEqual(cycleReport([edge('config/a.ts', 'dns/b.ts'), edge('config/d.ts', 'config/a.ts')], folderOf), []);
  });
});
