import { chmodSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A PATH folder with the usual tools but no bwrap: what a host without bubblewrap looks like. Capabilities
 * detected on it point into it: the caller removes it once they are no longer used (afterAll).
 */
export function binWithoutBwrap(): string {
  const bin = mkdtempSync(join(tmpdir(), 'warden-nobwrap-'));
  chmodSync(bin, 0o755);
  for (const tool of ['sh', 'setpriv', 'prlimit', 'unshare', 'true', 'sleep', 'env', 'cat']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
  symlinkSync(process.execPath, join(bin, 'node'));
  symlinkSync('/usr/bin/python3', join(bin, 'python3'));
  return bin;
}
