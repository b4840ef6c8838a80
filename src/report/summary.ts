import type { SectionReport } from '../actions/deploy.ts';
import type { PlanItem } from '../plan/build-plan.ts';

/** The outcome of one item of a run. */
export interface ItemResult {
  item: PlanItem;
  status: 'issued' | 'renewed' | 'unchanged' | 'failed';
  notAfter: Date | null;
  error: string | null;
  /** The ACME problem type (`rateLimited`, `connection`, …) or error class of a failure. */
  errorType: string | null;
  warnings: string[];
  /** What was repaired without the CA (per-name links), one line each; a change even when `unchanged`. */
  repaired: string[];
}

/** The whole run's result, as `--json` prints it. */
export interface RunSummary {
  mode: 'prod' | 'test';
  directory: string;
  results: ItemResult[];
  /** The deployments run (actions.conf sections), new and retried. */
  deployments: SectionReport[];
}

/** Counts per status. */
export function counts(results: readonly ItemResult[]): Record<ItemResult['status'], number> {
  const c = { issued: 0, renewed: 0, unchanged: 0, failed: 0 };
  for (const r of results) c[r.status]++;
  return c;
}

/** True when the run changed something or something failed: what `--cron` reports. */
export function noteworthy(s: RunSummary): boolean {
  return s.deployments.length > 0 || s.results.some((r) => r.status !== 'unchanged' || r.warnings.length > 0 || r.repaired.length > 0);
}

/** True when a certificate or a deployment failed: the run exits 1. */
export function failed(s: RunSummary): boolean {
  return s.results.some((r) => r.status === 'failed') || s.deployments.some((d) => !d.ok);
}

/** Machine-readable summary (stable keys; dates as ISO strings). */
export function summaryJson(s: RunSummary): string {
  return JSON.stringify(
    {
      mode: s.mode,
      directory: s.directory,
      counts: counts(s.results),
      results: s.results.map((r) => ({
        line: r.item.line,
        names: r.item.identifiers,
        keyType: r.item.keyType,
        status: r.status,
        reason: r.item.decision.reason,
        notAfter: r.notAfter ? r.notAfter.toISOString() : null,
        cert: r.item.paths.cert,
        key: r.item.paths.key,
        error: r.error,
        errorType: r.errorType,
        warnings: r.warnings,
        repaired: r.repaired,
      })),
      deployments: s.deployments.map((d) => ({
        section: d.section,
        ok: d.ok,
        cns: d.cns,
        note: d.note,
        commands: d.commands.map((c) => ({
          kind: c.kind,
          line: c.line,
          command: c.command,
          status: c.status,
          exitCode: c.exitCode,
          signal: c.signal,
          timedOut: c.timedOut,
          durationMs: Math.round(c.durationMs),
          output: c.output,
        })),
      })),
    },
    null,
    2,
  );
}

/** Human summary: one line per certificate that changed or failed, then the counts. */
export function summaryText(s: RunSummary): string {
  const lines: string[] = [];
  for (const r of s.results) {
    for (const m of r.repaired) lines.push(`repaired ${r.item.keyType.padEnd(3)} ${r.item.identifiers.join(' ')}: ${m}`);
    if (r.status === 'unchanged') continue;
    const what = `${r.status.padEnd(8)} ${r.item.keyType.padEnd(3)} ${r.item.identifiers.join(' ')}`;
    lines.push(r.status === 'failed' ? `${what}: ${r.error}` : `${what} (until ${r.notAfter?.toISOString()})`);
  }
  for (const d of s.deployments) {
    const bad = d.commands.find((c) => c.status === 'failed');
    lines.push(
      bad
        ? `FAILED   [${d.section}] ${bad.kind}: ${bad.command}: ${bad.timedOut ? 'timed out' : bad.signal ? `killed by ${bad.signal}` : `exit ${bad.exitCode}`}; retried next run`
        : `deployed [${d.section}] for ${d.cns.join(' ')}${d.note ? ` (${d.note})` : ''}`,
    );
  }
  const c = counts(s.results);
  lines.push(`${c.issued} issued, ${c.renewed} renewed, ${c.unchanged} unchanged, ${c.failed} failed`);
  return lines.join('\n') + '\n';
}
