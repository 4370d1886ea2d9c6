// Enforcement is honest where the wall cannot be built (CONTRACT §7): a daemon whose PATH has no
// bwrap says so once at start, runs the plugins with `unenforced` where the wall is missing (never a
// silent pass), and with `sandbox.require: true` keeps them waiting with a reason naming the wall.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LANGS, attacker, binWithoutBwrap, bootWall, daemonLog, removeDir, teardown, type WallBoot } from './helpers.js';

describe('a host without bubblewrap', () => {
  let bin: string | undefined;
  beforeAll(() => {
    bin = binWithoutBwrap();
  });
  afterAll(() => removeDir(bin));

  describe('sandbox.require: false (the default)', () => {
    let boot: WallBoot | undefined;
    beforeAll(async () => {
      boot = await bootWall({}, { 'bare-js': attacker(LANGS[0]!), 'bare-py': attacker(LANGS[1]!) }, { PATH: bin });
    });
    afterAll(() => teardown(boot));

    it('says so once at start', async () => {
      await boot!.daemon.waitForState('bare-py', 'running');
      const warnings = daemonLog(boot!.daemon).filter((e) => String(e.msg).startsWith('sandbox: wall: none (bwrap not found'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.level).toMatch(/warn|40/);
    });

    it.each(LANGS)('runs a $lang plugin and names what is unenforced', async (lang) => {
      const name = `bare-${lang.lang === 'js' ? 'js' : 'py'}`;
      const status = await boot!.daemon.waitForState(name, 'running');
      expect(status.enforcement.fs).not.toMatch(/^mount-namespace/);
      expect(status.enforcement.fs).toBe(lang.lang === 'js' ? 'node-permission' : 'unenforced');
      expect(status.enforcement).toMatchObject({ signals: 'unenforced', identity: 'unenforced', syscalls: 'unenforced' });
      expect(status.enforcement.processTree).not.toMatch(/pid-namespace/);
      expect(await boot!.daemon.call(name, 'whoami')).toMatchObject({ lang: lang.lang });
      // A start-up log line per plugin is not the point: the one warning above is.
      const again = daemonLog(boot!.daemon).filter((e) => String(e.msg).startsWith('sandbox: wall: none'));
      expect(again).toHaveLength(1);
    });
  });

  describe('sandbox.require: true', () => {
    let boot: WallBoot | undefined;
    beforeAll(async () => {
      boot = await bootWall({ sandbox: { require: true } }, { 'walled-js': attacker(LANGS[0]!), 'walled-py': attacker(LANGS[1]!) }, { PATH: bin });
    });
    afterAll(() => teardown(boot));

    it.each(LANGS)('a $lang plugin waits, with a reason naming the wall', async (lang) => {
      const name = `walled-${lang.lang === 'js' ? 'js' : 'py'}`;
      const status = await boot!.daemon.waitForState(name, 'waiting');
      expect(status.reason).toMatch(/wall/);
      expect(status.reason).toMatch(/bwrap not found/);
      expect(status.pid).toBeNull();
    });
  });
});
