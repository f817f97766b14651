/**
 * `npm run demo`: the one command of the README's quickstart. It installs dependencies if they are missing,
 * builds, checks the system packages, then runs `celeriac dev --demo`: a private redis-server (or $REDIS_URL), the
 * API and a worker, the CPU and GPU sample tasks, and it keeps serving until Ctrl-C so the printed curl works.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const run = (command, args) => execFileSync(command, args, { stdio: 'inherit' });
const has = (binary) => {
  try {
    execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

if (!existsSync('node_modules/.package-lock.json')) {
  console.log('Installing dependencies (npm ci)…');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}
console.log('Building…');
run('npx', ['turbo', 'run', 'build', '--output-logs=errors-only']);

if (!process.env.REDIS_URL && !has('redis-server')) {
  console.error('redis-server is not installed. Install it (Debian/Ubuntu: sudo apt-get install redis-server), or set REDIS_URL.');
  process.exit(1);
}

const child = spawn(process.execPath, ['packages/cli/bin/celeriac.js', 'dev', '--demo', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
// Ctrl-C reaches the child through the terminal's process group; the parent only waits for it to finish.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
