import { main } from './main.ts';

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  env: process.env,
  now: () => new Date(),
});
// Let stdout drain (it may be a pipe), then exit: idle keep-alive sockets must not hold the run open.
process.stdout.write('', () => process.exit(code));
