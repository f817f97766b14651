// The writing side of the chaos job ledger, loaded by task handlers inside worker processes (plain JavaScript:
// `celeriac worker --tasks` loads compiled modules). The reading side is `job-ledger.ts`; the line format is its.
import { openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** The environment variable that names the ledger's folder; the test sets it on every worker it spawns. */
export const ledgerDirEnv = 'CELERIAC_CHAOS_LEDGER';

/** @type {number | undefined} */
let fd;

/**
 * Appends one ledger line, `<kind> <jobId> <attempt> <pid> <epochMs>`, to this process's own file in the ledger
 * folder.
 *
 * Why a file per process, written with one `write(2)` on an O_APPEND descriptor: once `writeSync` returns, the line
 * is in the kernel's page cache, so a SIGKILL of this process a microsecond later cannot lose it, and killing Redis
 * cannot either (the ledger lives outside the system under test). One writer per file means lines never interleave.
 *
 * @param {'start' | 'effect'} kind `start` when the handler begins, `effect` when its side effect is done
 * @param {string} jobId
 * @param {number} attempt
 */
export function recordLedgerEvent(kind, jobId, attempt) {
  const dir = process.env[ledgerDirEnv];
  if (!dir) throw new Error(`${ledgerDirEnv} is not set: the chaos tasks need a ledger folder`);
  fd ??= openSync(join(dir, `${process.pid}.log`), 'a');
  writeSync(fd, `${kind} ${jobId} ${attempt} ${process.pid} ${Date.now()}\n`);
}
