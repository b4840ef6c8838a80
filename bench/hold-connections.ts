// Child process of bench/challenge-load.ts: holds `idle` silent and `slow` slow-header connections
// against 127.0.0.1:`port` (see holdConnections) and prints `<open> <reopened>` every 100 ms until
// stdin closes. A process of its own, so that reopening hundreds of connections at once does not
// stall the event loop that times the good requests.
// Usage: node --import tsx bench/hold-connections.ts PORT IDLE SLOW
import { holdConnections } from './load-clients.ts';

const [port, idle, slow] = process.argv.slice(2).map(Number);
const sets = [holdConnections(port, 'idle', idle), holdConnections(port, 'slow', slow)];
const timer = setInterval(() => {
  const open = sets.reduce((n, h) => n + h.open(), 0);
  const reopened = sets.reduce((n, h) => n + h.reopened(), 0);
  process.stdout.write(`${open} ${reopened}\n`);
}, 100);
process.stdin.resume();
process.stdin.on('end', () => {
  clearInterval(timer);
  for (const h of sets) h.stop();
});
