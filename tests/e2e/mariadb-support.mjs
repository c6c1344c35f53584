// A throwaway MariaDB (Debian's mariadb-server) on a free loopback port, for the test of the
// database app provider: its own data directory, no grant tables (root without a password),
// stopped and removed by stop().
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freeLoopbackPort } from './redis-support.mjs';

/** Runs a command to the end; resolves with its stdout, rejects with its output. */
function run(command, args, timeout = 60_000) {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} failed (${error.code ?? error.signal}):\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Starts `mariadbd` on a free port, after `mariadb-install-db` made its data directory;
 * resolves once it answers. `sql(statement, database)` runs statements with the `mariadb`
 * client and resolves with its tab-separated output.
 */
export async function startMariaDb() {
  const dir = mkdtempSync(path.join(tmpdir(), 'reverb-rs-mariadb-'));
  const datadir = path.join(dir, 'data');
  // mariadbd refuses to run as root unless told to.
  const user = process.getuid?.() === 0 ? ['--user=root'] : [];
  try {
    await run('mariadb-install-db', ['--no-defaults', `--datadir=${datadir}`, '--auth-root-authentication-method=normal', '--skip-test-db', ...user]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed (apt-get install mariadb-server): ${error.message}`);
  }
  const port = await freeLoopbackPort();
  const child = spawn('mariadbd', [
    '--no-defaults', `--datadir=${datadir}`, `--socket=${path.join(dir, 'sock')}`, `--pid-file=${path.join(dir, 'pid')}`,
    `--port=${port}`, '--bind-address=127.0.0.1', '--skip-grant-tables', '--skip-log-bin', ...user,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk) => { log += chunk; });
  const sql = (statement, database = '') => run('mariadb', [
    '--no-defaults', '-h127.0.0.1', `-P${port}`, '-uroot', '--batch', '--skip-column-names', ...(database ? [database] : []), '-e', statement,
  ], 10_000);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await sql('SELECT 1');
      break;
    } catch (error) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`mariadbd did not start on port ${port}:\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    port,
    sql,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await once(child, 'exit');
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
