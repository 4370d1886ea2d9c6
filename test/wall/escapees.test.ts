// Every process a plugin starts ends with it (CONTRACT §7), even one that calls setsid and
// double-forks: after plugin.stop, plugin.restart, plugin.disable, the removal of its folder (hot
// reload) and the daemon's SIGTERM shutdown, nothing carrying the escapee's token is left on the host.
// One daemon per language, one plugin per case; the daemon shutdown comes last.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { LANGS, attacker, bootWall, findByToken, killByToken, newToken, sessionOf, teardown, waitGone, type WallBoot } from './helpers.js';

const CASES = ['stop', 'restart', 'disable', 'remove', 'shutdown'] as const;

describe.each(LANGS)('a $lang plugin leaves no escapee behind', (lang) => {
  let boot: WallBoot | undefined;
  const tokens: string[] = [];
  const name = (c: string) => `e-${c}`;

  beforeAll(async () => {
    const plugins = Object.fromEntries(CASES.map((c) => [name(c), attacker(lang)]));
    // A JS plugin needs childProcess for node's permission model (the second layer); Python forks regardless.
    const overrides = lang.lang === 'js' ? Object.fromEntries(CASES.map((c) => [name(c), { permissions: { childProcess: true } }])) : {};
    boot = await bootWall({ plugins: overrides, hotReload: { enabled: true, debounceMs: 50 } }, plugins);
    await Promise.all(CASES.map((c) => boot!.daemon.waitForState(name(c), 'running')));
  });
  afterAll(async () => {
    for (const token of tokens) killByToken(token);
    await teardown(boot);
  });

  /** Starts an escapee in `plugin` and returns its token, once it is seen on the host outside the plugin's session. */
  async function escape(plugin: string): Promise<string> {
    const { daemon } = boot!;
    const token = newToken(`${lang.lang}-${plugin}`);
    tokens.push(token);
    const status = await daemon.status(plugin);
    expect(await daemon.call(plugin, 'spawnEscapee', { token })).toMatchObject({ ok: true });
    const pluginSession = sessionOf(status.pid!);
    // The escapee shows once it has left the plugin's session (setsid) and its parents (double fork).
    const [pid] = await waitFor(`the escapee of ${plugin} on the host, in a session of its own`, () => {
      const pids = findByToken(token).filter((p) => {
        try {
          return sessionOf(p) !== pluginSession && sessionOf(p) !== p;
        } catch {
          return false;
        }
      });
      return pids.length > 0 ? pids : undefined;
    });
    expect(pid).toBeGreaterThan(1);
    return token;
  }

  it('plugin.stop', async () => {
    const token = await escape(name('stop'));
    await boot!.daemon.request('plugin.stop', { name: name('stop') });
    await waitGone(token);
    expect((await boot!.daemon.status(name('stop'))).state).toBe('stopped');
  });

  it('plugin.restart', async () => {
    const before = await boot!.daemon.status(name('restart'));
    const token = await escape(name('restart'));
    await boot!.daemon.request('plugin.restart', { name: name('restart') });
    await waitGone(token);
    const after = await boot!.daemon.waitForState(name('restart'), 'running');
    expect(after.pid).not.toBe(before.pid);
  });

  it('plugin.disable', async () => {
    const token = await escape(name('disable'));
    await boot!.daemon.request('plugin.disable', { name: name('disable') });
    await waitGone(token);
    expect((await boot!.daemon.status(name('disable'))).state).toBe('disabled');
  });

  it('removing its folder (hot reload)', async () => {
    const token = await escape(name('remove'));
    rmSync(join(boot!.sandbox.pluginsDir, name('remove')), { recursive: true, force: true });
    await waitGone(token);
    await waitFor('the plugin to be forgotten', async () => {
      const status = await boot!.daemon.request<{ plugins: Array<{ name: string }> }>('status');
      return !status.plugins.some((p) => p.name === name('remove'));
    });
  });

  it('daemon SIGTERM shutdown', async () => {
    const token = await escape(name('shutdown'));
    // A second one in a plugin that was restarted: every instance, not only the first, is covered.
    const second = await escape(name('restart'));
    const exit = await boot!.daemon.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    await waitGone(token);
    await waitGone(second);
  });
});
