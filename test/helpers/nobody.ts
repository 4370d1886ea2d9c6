// Running built code as nobody: a checkout under a private folder (a clone under /root, as CI's may be)
// cannot be read by nobody, so such tests run a copy of the built package from a readable temp folder.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './daemon.js';

export const NOBODY = 65534;
/** The prefix that runs a command as nobody, with no groups. */
export const AS_NOBODY = ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'];

/** Whether nobody can read `path` (every folder on the way must let it through). */
export function readableByNobody(path: string): boolean {
  return spawnSync(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), 'test', '-r', path]).status === 0;
}

/**
 * The package root nobody can run from: this checkout when nobody can read `probe` in it, else a copy of
 * `parts` of it in a temp folder (removed by `cleanup`).
 */
export function packageForNobody(probe = 'dist/cli/main.js', parts = ['package.json', 'dist', 'node_modules']): { root: string; cleanup(): void } {
  if (readableByNobody(join(REPO, probe))) return { root: REPO, cleanup: () => undefined };
  const root = mkdtempSync(join(tmpdir(), 'warden-package-'));
  chmodSync(root, 0o755);
  for (const part of parts) cpSync(join(REPO, part), join(root, part), { recursive: true });
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
