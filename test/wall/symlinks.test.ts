// A hostile plugin *folder* (CONTRACT §7): symlinks shipped inside it must not turn "a path inside
// its own folder" (no approval needed) into a path outside it. The victim is a root-owned temp folder
// of this test, never a system path: what the daemon might chown or bind is only that.
//   - fs.write ["./link"] with link -> victim: would bind the victim read-write (and chown it to nobody);
//   - fs.read ["./peek"] with peek -> victim: would bind the victim read-only without approval;
//   - a shipped out/evil -> victim/file symlink: the daemon (root) hands fs.write folders to nobody
//     with chown, which follows symlinks.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { LANGS, attacker, bootWall, removeDir, teardown, type WallBoot } from './helpers.js';

type Outcome = { ok: boolean; code?: unknown; value?: unknown };

describe.each(LANGS)('symlinks in a hostile $lang plugin folder', (lang) => {
  let boot: WallBoot | undefined;
  let victim: string;

  beforeAll(async () => {
    victim = mkdtempSync(join(tmpdir(), 'warden-wall-victim-'));
    chmodSync(victim, 0o755);
    writeFileSync(join(victim, 'secret.txt'), 'victim-secret', { mode: 0o644 });
    writeFileSync(join(victim, 'target.txt'), 'owned by root', { mode: 0o644 });
    boot = await bootWall(
      { hotReload: { enabled: false } },
      {
        writer: attacker(lang, { permissions: { fs: { write: ['./link'] } } }),
        peeker: attacker(lang, { permissions: { fs: { read: ['./peek'], write: ['./out'] } } }),
        shipper: attacker(lang),
      },
      {},
      (sandbox) => {
        symlinkSync(victim, join(sandbox.pluginsDir, 'writer', 'link'));
        symlinkSync(victim, join(sandbox.pluginsDir, 'peeker', 'peek'));
        mkdirSync(join(sandbox.pluginsDir, 'shipper', 'out'), { recursive: true });
        symlinkSync(join(victim, 'target.txt'), join(sandbox.pluginsDir, 'shipper', 'out', 'evil'));
      },
    );
    await waitFor('every plugin to settle', async () => {
      const { plugins } = await boot!.daemon.request<{ plugins: Array<{ state: string }> }>('status');
      return plugins.every((p) => !['starting', 'stopped'].includes(p.state));
    });
  });
  afterAll(async () => {
    await teardown(boot);
    removeDir(victim);
  });

  it('fs.write through a symlink to a folder outside: the folder is neither handed over nor writable', async () => {
    const { daemon, sandbox } = boot!;
    const status = await daemon.status('writer');
    expect(statSync(victim).uid, `the victim folder's owner (writer is ${status.state}: ${status.reason})`).toBe(0);
    if (status.state === 'running') {
      const outcome = await daemon.call<Outcome>('writer', 'write', { path: join(sandbox.pluginsDir, 'writer', 'link', 'pwned') });
      expect(outcome).toMatchObject({ ok: false });
    }
    expect(existsSync(join(victim, 'pwned'))).toBe(false);
  });

  it('fs.read through a symlink to a folder outside is not read without approval', async () => {
    const { daemon, sandbox } = boot!;
    const status = await daemon.status('peeker');
    if (status.state === 'running') {
      const outcome = await daemon.call<Outcome>('peeker', 'read', { path: join(sandbox.pluginsDir, 'peeker', 'peek', 'secret.txt') });
      expect(outcome, 'the victim read through ./peek without approval').toMatchObject({ ok: false });
    } else {
      expect(status.state).toBe('waiting');
    }
  });

  it('a shipped symlink in an fs.write folder does not make the daemon chown its target', async () => {
    const { daemon } = boot!;
    const status = await daemon.status('shipper');
    expect(statSync(join(victim, 'target.txt')).uid, `target.txt's owner (shipper is ${status.state})`).toBe(0);
    expect(readFileSync(join(victim, 'target.txt'), 'utf8')).toBe('owned by root');
  });
});
