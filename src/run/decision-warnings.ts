import type { PlanItem } from '../plan/build-plan.ts';
import type { Logger } from '../report/logger.ts';
import { warningId, WarnedRecord } from '../store/warned.ts';

/**
 * Prints the decision warnings of a run (such as a `reauthorizeDays` window that never fires).
 * Each is printed where `--cron` shows it the first time it is given for a certificate, and
 * again only when its text (which holds the config values it is about) or the certificate
 * (its notAfter) changes; otherwise it is printed only at a terminal, not mailed every night.
 * A failure to keep the record is a warning, never a failed run.
 */
export async function reportDecisionWarnings(items: readonly PlanItem[], stateDir: string, log: Logger): Promise<void> {
  const warnings = items.flatMap((item) =>
    item.decision.warnings.map((text) => ({
      message: `${item.paths.base} [${item.keyType}]: ${text}`,
      id: warningId(item.paths.cert, item.decision.notAfter?.toISOString() ?? '', text),
    })),
  );
  const record = await WarnedRecord.load(stateDir);
  for (const w of warnings) {
    if (record.has(w.id)) log.info(`warning: ${w.message}`);
    else log.warn(`${w.message} (said once; again when the config or the certificate changes)`);
  }
  await record.save(new Set(warnings.map((w) => w.id))).catch((err: Error) => log.warn(`could not record the warnings shown: ${err.message}`));
}
