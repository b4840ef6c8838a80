import type { SectionReport } from '../actions/deploy.ts';
import { timingJson, type PlanItem } from '../plan/build-plan.ts';

/** The outcome of one item of a run. */
export interface ItemResult {
  item: PlanItem;
  /** `waiting`: due, held by its failure back-off; `deferred`: due, held by the CA's rate limits. */
  status: 'issued' | 'renewed' | 'unchanged' | 'failed' | 'waiting' | 'deferred';
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
  /** When the run decided (what "expires soon" is measured from). */
  at: Date;
  results: ItemResult[];
  /** The deployments run (actions.conf sections), new and retried. */
  deployments: SectionReport[];
}

/** Counts per status. */
export function counts(results: readonly ItemResult[]): Record<ItemResult['status'], number> {
  const c = { issued: 0, renewed: 0, unchanged: 0, failed: 0, waiting: 0, deferred: 0 };
  for (const r of results) c[r.status]++;
  return c;
}

const ATTEMPTED: readonly ItemResult['status'][] = ['issued', 'renewed', 'failed'];
const SOON_MS = 7 * 86_400_000;

/** Certificates left as they are that end within 7 days: named on every run, `--cron` included. */
export function expiringSoon(s: RunSummary): ItemResult[] {
  return s.results.filter((r) => !['issued', 'renewed'].includes(r.status) && r.notAfter && r.notAfter.getTime() - s.at.getTime() < SOON_MS);
}

/** True when the run tried or repaired something, deployed, or a certificate expires soon: what `--cron` reports. */
export function noteworthy(s: RunSummary): boolean {
  return s.deployments.length > 0 || s.results.some((r) => ATTEMPTED.includes(r.status) || r.repaired.length > 0) || expiringSoon(s).length > 0;
}

/**
 * True when a certificate or a deployment failed, or a certificate is still failing (held by its
 * back-off): the run exits 1, so a systemd unit shows failed until it recovers.
 */
export function failed(s: RunSummary): boolean {
  return s.results.some((r) => r.status === 'failed' || r.status === 'waiting') || s.deployments.some((d) => !d.ok);
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
        ...timingJson(r.item),
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

function holdText(r: ItemResult): string {
  const h = r.item.hold;
  if (!h) return '';
  return h.kind === 'backoff' ? `: failing (${h.failures}x, last: ${h.lastError}); next try ${h.until.toISOString()}` : `: due; its slot under the CA's rate limits comes ${h.until.toISOString()}`;
}

/**
 * Human summary: one line per certificate that changed, failed or waits (under `--cron` only
 * the attempts), a line per certificate that expires within 7 days, then the counts.
 */
export function summaryText(s: RunSummary, opts: { cron?: boolean } = {}): string {
  const lines: string[] = [];
  for (const r of s.results) {
    for (const m of r.repaired) lines.push(`repaired ${r.item.keyType.padEnd(3)} ${r.item.identifiers.join(' ')}: ${m}`);
    if (r.status === 'unchanged' || (opts.cron && !ATTEMPTED.includes(r.status))) continue;
    const what = `${r.status.padEnd(8)} ${r.item.keyType.padEnd(3)} ${r.item.identifiers.join(' ')}`;
    lines.push(r.status === 'failed' ? `${what}: ${r.error}` : r.item.hold ? `${what}${holdText(r)}` : `${what} (until ${r.notAfter?.toISOString()})`);
  }
  for (const r of expiringSoon(s)) lines.push(`EXPIRES  ${r.item.keyType.padEnd(3)} ${r.item.identifiers.join(' ')} on ${r.notAfter!.toISOString()}`);
  for (const d of s.deployments) {
    const bad = d.commands.find((c) => c.status === 'failed');
    lines.push(
      bad
        ? `FAILED   [${d.section}] ${bad.kind}: ${bad.command}: ${bad.timedOut ? 'timed out' : bad.signal ? `killed by ${bad.signal}` : `exit ${bad.exitCode}`}; retried next run`
        : `deployed [${d.section}] for ${d.cns.join(' ')}${d.note ? ` (${d.note})` : ''}`,
    );
  }
  const c = counts(s.results);
  const held = [c.waiting ? `, ${c.waiting} waiting` : '', c.deferred ? `, ${c.deferred} deferred` : ''].join('');
  lines.push(`${c.issued} issued, ${c.renewed} renewed, ${c.unchanged} unchanged, ${c.failed} failed${held}`);
  return lines.join('\n') + '\n';
}
