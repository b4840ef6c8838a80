// Three years of hourly runs for 1,000 lines against a simulated CA, driving certfleet's real
// decision code (planItem → decideRenewal, the ARI schedule, the failure back-off, the rate
// budget through holdDue) with a simulated clock. The CA issues four profiles (90 days, 64 days,
// 45 days, 160 hours), serves ARI windows by Let's Encrypt's formula (centred at two thirds of the
// lifetime, half under 10 days, ±1% of the lifetime; Retry-After 6 h ± 20%), enforces 300 new
// orders per 3 hours and 50 new certificates per registered domain per week (with Let's Encrypt's
// exemptions), goes down for 1–48 hours now and then, has one incident that moves a third of the
// windows into the past, and refuses one name's validation for 3 days.
// Usage: npm run bench:timeline [-- --json] [--lines N] [--years N] [--seed N]
import { applyAriAnswer, applyAriError, ariPollDue } from '../src/plan/ari-schedule.ts';
import { recordFailure, currentFailure, orderBlockedUntil } from '../src/plan/backoff.ts';
import { BudgetPlanner, registeredDomains, renewalExempt } from '../src/plan/budget.ts';
import { planItem, type PlanItem } from '../src/plan/build-plan.ts';
import { holdDue, replacesFor } from '../src/plan/gate.ts';
import type { CertRecord, Ledger } from '../src/store/cert-state.ts';
import type { Settings } from '../src/config/settings.ts';
import { seededRandom } from '../test/support/seeded-random.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const LINES = arg('--lines', 1000);
const YEARS = arg('--years', 3);
const json = process.argv.includes('--json');

// Seeded, so two runs of the benchmark give the same timeline.
const random = seededRandom(arg('--seed', 42));

const PROFILES = [
  { name: 'classic-90d', lifetime: 90 * DAY },
  { name: 'default-64d', lifetime: 64 * DAY },
  { name: 'default-45d', lifetime: 45 * DAY },
  { name: 'shortlived-160h', lifetime: 160 * HOUR },
] as const;

const start = Date.parse('2027-01-01T00:00:00Z');
const end = start + YEARS * 365 * DAY;
const ACCOUNT = { directory: 'https://ca.sim/dir', thumbprint: 'sim-account' };
const LIMITS = { ordersPer3Hours: 300, certsPerDomainPerWeek: 50 };
const settings = { reauthorizeDays: 30, generateNewCertsAfterDays: 0, alwaysGenerateNewKeys: false } as unknown as Settings;

/** CA outages: about one every 45 days, each 1–48 hours. */
const outages: [number, number][] = [];
for (let t = start + 20 * DAY; t < end; t += (30 + random() * 30) * DAY) outages.push([t, t + (1 + Math.floor(random() * 48)) * HOUR]);
const caDown = (t: number) => outages.some(([a, b]) => a <= t && t < b);
/** The incident: on day 400 a third of the certificates' windows move into the past until renewed. */
const INCIDENT_AT = start + 400 * DAY;

interface SimCert {
  notBefore: number;
  notAfter: number;
  certId: string;
  incident: boolean;
}

interface Line {
  index: number;
  profile: (typeof PROFILES)[number];
  names: string[];
  domains: string[];
  cert: SimCert | null;
  record: CertRecord;
  /** The validation of this line fails until this moment (the failing name). */
  failsUntil: number;
  failingPicked: boolean;
  ordersSinceRenewal: number;
  everLapsed: boolean;
}

let serial = 0;
const lines: Line[] = Array.from({ length: LINES }, (_, i) => {
  const name = `host${i}.zone${i % 40}.example`;
  return {
    index: i,
    profile: PROFILES[i % PROFILES.length],
    names: [name],
    domains: registeredDomains([name], (n) => n.split('.').slice(-2).join('.')),
    cert: null,
    record: {},
    failsUntil: 0,
    failingPicked: false,
    ordersSinceRenewal: 0,
    everLapsed: false,
  };
});
// One name per profile whose validation keeps failing for 3 days, from its first order after day 180.
const failing = new Set(PROFILES.map((_, p) => p + PROFILES.length * 3));

/** The CA's window for a certificate: Let's Encrypt's formula, or the incident's [now − 1 h, now − 30 min]. */
function caWindow(c: SimCert, now: number): { start: Date; end: Date; explanationURL: string | null } {
  if (c.incident && now >= INCIDENT_AT) return { start: new Date(now - HOUR), end: new Date(now - HOUR / 2), explanationURL: 'https://ca.sim/incident' };
  const life = c.notAfter - c.notBefore;
  const centre = c.notBefore + life * (life < 10 * DAY ? 1 / 2 : 2 / 3);
  return { start: new Date(centre - life / 100), end: new Date(centre + life / 100), explanationURL: null };
}

// The simulated CA's own view of its limits (what it would refuse), apart from certfleet's ledger.
const caOrders: number[] = [];
const caCerts: { at: number; domains: string[] }[] = [];
const ledger: Ledger = { orders: [], certs: [] };

const stats = PROFILES.map((p) => ({
  profile: p.name,
  certificates: 0,
  renewals: 0,
  renewalsInsideAriWindow: 0,
  renewalsOutsideAriWindow: 0,
  renewalsAfterIncident: 0,
  orders: 0,
  maxOrdersPerRenewal: 0,
  ordersDuringBackoff: 0,
  rateLimitedOrders: 0,
  failedOrders: 0,
  polls: 0,
  lapsed: 0,
}));
const statOf = (l: Line) => stats[PROFILES.indexOf(l.profile)];

function observed(l: Line) {
  const c = l.cert;
  const key = { state: 'ok' as const, spkiSha256: 'k', matchesSpec: true, description: 'EC P-256' };
  const csr = { state: 'ok' as const, spkiSha256: 'k', names: l.names };
  if (!c) return { key, csr, cert: { state: 'missing' as const } };
  return { key, csr, cert: { state: 'ok' as const, spkiSha256: 'k', names: l.names, notBefore: new Date(c.notBefore), notAfter: new Date(c.notAfter), certId: c.certId } };
}

const paths = (i: number) => ({ base: `l${i}`, key: `/sim/k${i}`, csr: `/sim/c${i}`, cert: `/sim/l${i}.pem`, links: [] });

/** One order at the simulated CA: returns the failure, or null when a certificate was issued. */
function order(l: Line, now: number, exempt: boolean): { message: string; errorType: string; retryAfter: Date | null } | null {
  if (caDown(now)) return { message: 'connect ECONNREFUSED (CA outage)', errorType: 'ECONNREFUSED', retryAfter: null };
  if (!exempt) {
    const recent = caOrders.filter((t) => t > now - 3 * HOUR);
    const perDomain = caCerts.filter((c) => c.at > now - 7 * DAY && c.domains.some((d) => l.domains.includes(d)));
    if (recent.length >= LIMITS.ordersPer3Hours || perDomain.length >= LIMITS.certsPerDomainPerWeek) {
      statOf(l).rateLimitedOrders++;
      return { message: 'too many new orders', errorType: 'rateLimited', retryAfter: new Date(now + 3 * HOUR) };
    }
    caOrders.push(now);
  }
  if (failing.has(l.index) && now > start + 180 * DAY) {
    if (!l.failingPicked) {
      l.failingPicked = true;
      l.failsUntil = now + 3 * DAY;
    }
    if (now < l.failsUntil) return { message: 'unauthorized: 404 from the name', errorType: 'unauthorized', retryAfter: null };
  }
  if (!exempt) caCerts.push({ at: now, domains: l.domains });
  return null;
}

const began = performance.now();
let runs = 0;
for (let now = start; now < end; now += HOUR) {
  runs++;
  const at = new Date(now);
  // ARI polls that are due (the observation step of a run).
  for (const l of lines) {
    const c = l.cert;
    if (!c) continue;
    if (c.notAfter <= now && !l.everLapsed) {
      l.everLapsed = true;
      statOf(l).lapsed++;
    }
    if (c.notAfter <= now || !ariPollDue(l.record.ari, c.certId, at)) continue;
    statOf(l).polls++;
    if (caDown(now)) l.record = { ...l.record, ari: applyAriError(l.record.ari, c.certId, 'HTTP 503', at) };
    else l.record = { ...l.record, ari: applyAriAnswer(l.record.ari, c.certId, { ...caWindow(c, now), retryAfterSeconds: Math.round(6 * 3600 * (0.8 + 0.4 * random())) }, at, random) };
  }
  // Decide every line, hold what must wait, order the rest.
  const items: PlanItem[] = lines.map((l) => planItem({ line: l.index + 1, names: l.names } as never, 'ec', paths(l.index), observed(l), settings, at, l.record, true));
  if (!items.some((i) => i.decision.action !== 'skip')) continue;
  ledger.orders = ledger.orders.filter((o) => Date.parse(o.at) > now - 3 * HOUR);
  ledger.certs = ledger.certs.filter((c) => Date.parse(c.at) > now - 7 * DAY);
  const gated = holdDue(items, {
    now: at,
    retry: false,
    record: (i) => lines[i.line - 1].record,
    context: () => 'sim',
    budget: { planner: new BudgetPlanner(ledger, LIMITS, at), account: ACCOUNT, domains: (i) => lines[i.line - 1].domains },
  });
  for (const item of gated) {
    if (item.decision.action === 'skip' || item.hold) continue;
    const l = lines[item.line - 1];
    const s = statOf(l);
    const replaces = replacesFor(item, l.record, ACCOUNT);
    const exempt = renewalExempt({
      replaces: replaces !== null,
      window: item.ari?.start && item.ari.end ? { start: item.ari.start, end: item.ari.end } : null,
      sameIdentifiers: l.cert !== null,
      previousNotBefore: l.cert ? new Date(l.cert.notBefore) : null,
      now: at,
    });
    // Independent check that the gate never lets an order through inside a back-off.
    if (orderBlockedUntil(currentFailure(l.record.failure, 'sim'), at, false)) s.ordersDuringBackoff++;
    s.orders++;
    l.ordersSinceRenewal++;
    if (!exempt) ledger.orders.push({ at: at.toISOString(), account: ACCOUNT.thumbprint });
    const failure = order(l, now, exempt);
    if (failure) {
      s.failedOrders++;
      l.record = { ...l.record, failure: recordFailure(l.record.failure, 'sim', failure, at, l.cert ? new Date(l.cert.notAfter) : null) };
      continue;
    }
    if (!exempt) ledger.certs.push({ at: at.toISOString(), domains: l.domains });
    if (l.cert) {
      s.renewals++;
      const w = item.ari?.start && item.ari.end ? item.ari : null;
      if (w && w.start! <= at && at < w.end!) s.renewalsInsideAriWindow++;
      else s.renewalsOutsideAriWindow++;
      if (l.cert.incident && now >= INCIDENT_AT) s.renewalsAfterIncident++;
      s.maxOrdersPerRenewal = Math.max(s.maxOrdersPerRenewal, l.ordersSinceRenewal);
    } else s.certificates++;
    l.ordersSinceRenewal = 0;
    const certId = `sim.${(++serial).toString(36)}`;
    const incident = now < INCIDENT_AT && random() < 1 / 3;
    l.cert = { notBefore: now, notAfter: now + l.profile.lifetime, certId, incident };
    l.record = { issued: { certId, directory: ACCOUNT.directory, account: ACCOUNT.thumbprint, profile: l.profile.name, at: at.toISOString() } };
  }
}

const seconds = (performance.now() - began) / 1000;
const report = {
  lines: LINES,
  years: YEARS,
  hourlyRuns: runs,
  decisions: runs * LINES,
  outages: outages.map(([a, b]) => ({ start: new Date(a).toISOString(), hours: (b - a) / HOUR })),
  incidentAt: new Date(INCIDENT_AT).toISOString(),
  seconds: Math.round(seconds * 10) / 10,
  profiles: Object.fromEntries(
    stats.map((s) => [
      s.profile,
      {
        lapsed: s.lapsed,
        renewals: s.renewals,
        renewalsOutsideAriWindow: s.renewalsOutsideAriWindow,
        renewalsAfterIncident: s.renewalsAfterIncident,
        ordersPerRenewal: { mean: Math.round(((s.orders - s.certificates) / Math.max(1, s.renewals)) * 1000) / 1000, max: s.maxOrdersPerRenewal },
        ordersDuringBackoff: s.ordersDuringBackoff,
        rateLimitedOrders: s.rateLimitedOrders,
        failedOrders: s.failedOrders,
        firstIssuances: s.certificates,
        ariPolls: s.polls,
      },
    ]),
  ),
};
if (json) console.log(JSON.stringify(report, null, 2));
else {
  console.log(`${LINES} lines, ${YEARS} years of hourly runs (${runs} runs, ${report.decisions} decisions) in ${report.seconds} s; ${outages.length} CA outages, an incident on ${report.incidentAt}`);
  for (const [name, p] of Object.entries(report.profiles)) {
    console.log(`${name.padEnd(16)} lapsed ${p.lapsed}, renewals ${p.renewals} (outside the ARI window ${p.renewalsOutsideAriWindow}, of which after the incident ${p.renewalsAfterIncident}), orders per renewal mean ${p.ordersPerRenewal.mean} max ${p.ordersPerRenewal.max}, orders during back-off ${p.ordersDuringBackoff}, rate-limited ${p.rateLimitedOrders}, polls ${p.ariPolls}`);
  }
}
