import { main } from './main.ts';

// No top-level await: the same entry is bundled as ESM (bin/certfleet) and as CommonJS (the
// single executable's main script), and CommonJS cannot await at the top.
void main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  env: process.env,
  now: () => new Date(),
}).then((code) => {
  // Let stdout drain (it may be a pipe), then exit: idle keep-alive sockets must not hold the run open.
  process.stdout.write('', () => process.exit(code));
});
