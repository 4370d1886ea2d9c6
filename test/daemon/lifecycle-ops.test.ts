// What the operator's actions and a re-read config do to a plugin, seen through a real daemon: the
// states, the circuit, the RESTARTS count and the log (CONTRACT §5, §6, §7).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonError } from '../../src/control/client.js';
import type { PluginStatus } from '../../src/protocol/index.js';
import { FAST_DEFAULTS, bootDaemon, type PluginSpec, type Sandbox, type TestDaemon } from '../helpers/daemon.js';
import { isAlive, waitFor } from '../helpers/wait.js';

let sandbox: Sandbox;
let daemon: TestDaemon;

/** Hot reload off: only the config changes these tests make reach the plugins. */
const BASE = { hotReload: { enabled: false } };

async function boot(config: Record<string, unknown> = {}, plugins: Record<string, PluginSpec> = {}) {
  ({ sandbox, daemon } = await bootDaemon({ ...BASE, ...config }, plugins));
}

/** Rewrites the config file and has the daemon re-read it (`daemon.reload`, as `warden reload` does). */
async function reloadWith(config: Record<string, unknown>): Promise<void> {
  sandbox.writeConfig({ ...BASE, defaults: FAST_DEFAULTS, ...config });
  expect(await daemon.request('daemon.reload')).toEqual({ ok: true });
}

async function action(method: string, name: string): Promise<PluginStatus> {
  return daemon.request<PluginStatus>(method, { name });
}

async function refused(promise: Promise<unknown>): Promise<DaemonError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DaemonError);
  return error as DaemonError;
}

/** The persisted record of a plugin in state.json, if any. */
function persisted(name: string): { disabled?: boolean; reason?: string | null } | undefined {
  const file = join(sandbox.stateDir, 'state.json');
  if (!existsSync(file)) return undefined;
  return (JSON.parse(readFileSync(file, 'utf8')) as { plugins?: Record<string, { disabled?: boolean }> }).plugins?.[name];
}

type Entry = { level: string; msg: string; plugin?: string; [field: string]: unknown };

async function logOf(name: string): Promise<Entry[]> {
  return (await daemon.request<{ entries: Entry[] }>('logs.tail', { name, lines: 1000 })).entries;
}

/** Waits for a log entry of `name` that `match` accepts. */
async function logged(name: string, what: string, match: (entry: Entry) => boolean): Promise<Entry> {
  return waitFor(`${what} in ${name}'s log`, async () => (await logOf(name)).find(match));
}

/** A plugin that answers bad input the way the SDK lets it: as the caller's fault. */
const STRICT = `import { definePlugin, PluginError } from 'warden/sdk';
definePlugin({
  methods: {
    echo: (params) => params,
    badInput: () => {
      throw new PluginError('amount must be positive', 1002, { callerFault: true });
    },
    noSuchRecord: () => {
      throw new PluginError('no such record', { code: 4004, callerFault: true });
    },
    badParams: () => {
      throw new PluginError('expected {amount}', -32602);
    },
    fail: () => {
      throw new PluginError('boom', 1001);
    },
  },
});
`;

async function openCircuit(name: string): Promise<void> {
  for (let i = 0; i < 2; i++) expect((await refused(daemon.call(name, 'fail'))).code).toBe(1001);
  expect((await daemon.status(name)).circuit).toBe('open');
}

afterEach(async () => {
  await daemon?.cleanup();
  sandbox?.remove();
});

describe('plugins.NAME.enabled in a re-read config', () => {
  it('false stops the plugin and leaves it disabled, with the config key as the reason and nothing persisted; true starts it again', async () => {
    await boot({}, { alpha: {}, beta: {} });
    const before = await daemon.waitForState('alpha', 'running');
    const beta = await daemon.waitForState('beta', 'running');

    await reloadWith({ plugins: { alpha: { enabled: false } } });
    const off = await daemon.status('alpha');
    expect(off).toMatchObject({ state: 'disabled', reason: 'disabled in config (plugins.alpha.enabled: false)', pid: null });
    await waitFor('the old alpha process to be gone', () => !isAlive(before.pid!));
    expect(persisted('alpha')?.disabled).not.toBe(true);
    expect((await refused(daemon.call('alpha', 'echo', 1))).code).toBe(-32002);
    // The others are untouched.
    expect((await daemon.status('beta')).pid).toBe(beta.pid);

    // Back to true, by SIGHUP this time.
    sandbox.writeConfig({ ...BASE, defaults: FAST_DEFAULTS, plugins: { alpha: { enabled: true } } });
    process.kill(daemon.daemon!.proc.pid!, 'SIGHUP');
    const on = await daemon.waitForState('alpha', 'running');
    expect(on.reason).toBeNull();
    expect(on.restarts).toBe(0);
    expect(await daemon.call('alpha', 'echo', 'back')).toBe('back');
  });

  it('disabled in config at start-up: start and enable are refused with the key to change; true in a reload starts it', async () => {
    await boot({ plugins: { alpha: { enabled: false } } }, { alpha: {} });
    expect(await daemon.status('alpha')).toMatchObject({ state: 'disabled', reason: 'disabled in config (plugins.alpha.enabled: false)' });
    for (const method of ['plugin.start', 'plugin.enable', 'plugin.restart']) {
      const error = await refused(action(method, 'alpha'));
      expect(error.code).toBe(-32007);
      expect(error.message).toMatch(/set plugins\.alpha\.enabled: true in the config and run `warden reload`/);
    }
    await reloadWith({ plugins: { alpha: { enabled: true } } });
    await daemon.waitForState('alpha', 'running');
  });

  it('an operator\'s `warden disable` outlasts the config: enabled back to true leaves it disabled until `warden enable`', async () => {
    await boot({}, { alpha: {}, beta: {} });
    await daemon.waitForState('alpha', 'running');
    await daemon.waitForState('beta', 'running');

    // Disabled by the operator, then by the config too.
    await action('plugin.disable', 'alpha');
    await reloadWith({ plugins: { alpha: { enabled: false }, beta: { enabled: false } } });
    // Disabled by the config, then by the operator too.
    expect((await daemon.status('beta')).state).toBe('disabled');
    expect(await action('plugin.disable', 'beta')).toMatchObject({ state: 'disabled', reason: 'disabled by the operator' });
    expect(persisted('beta')?.disabled).toBe(true);
    // Held twice: what lifts each, in order.
    const both = await refused(action('plugin.enable', 'beta'));
    expect(both.code).toBe(-32007);
    expect(both.message).toMatch(/set plugins\.beta\.enabled: true in the config and run `warden reload`, then `warden enable`$/);

    await reloadWith({ plugins: { alpha: { enabled: true }, beta: { enabled: true } } });
    for (const name of ['alpha', 'beta']) {
      expect(await daemon.status(name)).toMatchObject({ state: 'disabled', reason: 'disabled by the operator', pid: null });
    }
    expect((await action('plugin.enable', 'alpha')).state).toBe('running');
    expect((await action('plugin.enable', 'beta')).state).toBe('running');
  });
});

describe('operator actions', () => {
  it('restart, enable and start (of a stopped plugin) begin with a closed circuit', async () => {
    await boot({ defaults: { ...FAST_DEFAULTS, circuit: { failureThreshold: 2, cooldownMs: 60_000 } } }, { alpha: {} });
    await daemon.waitForState('alpha', 'running');

    await openCircuit('alpha');
    expect(await action('plugin.restart', 'alpha')).toMatchObject({ state: 'running', circuit: 'closed' });
    expect(await daemon.call('alpha', 'echo', 1)).toBe(1);

    await openCircuit('alpha');
    await action('plugin.disable', 'alpha');
    expect(await action('plugin.enable', 'alpha')).toMatchObject({ state: 'running', circuit: 'closed' });
    expect(await daemon.call('alpha', 'echo', 2)).toBe(2);

    await openCircuit('alpha');
    expect((await action('plugin.stop', 'alpha')).state).toBe('stopped');
    expect(await action('plugin.start', 'alpha')).toMatchObject({ state: 'running', circuit: 'closed' });
    expect(await daemon.call('alpha', 'echo', 3)).toBe(3);
  });

  it('RESTARTS counts failures only: not the first start, and not the operator\'s restart, start or enable', async () => {
    await boot({}, { alpha: {} });
    expect((await daemon.waitForState('alpha', 'running')).restarts).toBe(0);
    expect((await action('plugin.restart', 'alpha')).restarts).toBe(0);
    await action('plugin.stop', 'alpha');
    expect((await action('plugin.start', 'alpha')).restarts).toBe(0);
    await action('plugin.disable', 'alpha');
    const enabled = await action('plugin.enable', 'alpha');
    expect(enabled).toMatchObject({ state: 'running', restarts: 0 });

    process.kill(enabled.pid!, 'SIGKILL');
    const after = await waitFor('alpha restarted after the crash', async () => {
      const status = await daemon.status('alpha');
      return status.state === 'running' && status.pid !== enabled.pid ? status : undefined;
    });
    expect(after.restarts).toBe(1);
    expect((await action('plugin.restart', 'alpha')).restarts).toBe(1);
  });
});

describe('calls that fail for the caller\'s fault', () => {
  it('do not open the circuit: -32601, -32602 and errors with data.callerFault; other errors do', async () => {
    await boot(
      { defaults: { ...FAST_DEFAULTS, circuit: { failureThreshold: 2, cooldownMs: 60_000 } } },
      { strict: { files: { 'index.js': STRICT } } },
    );
    await daemon.waitForState('strict', 'running');
    for (let i = 0; i < 3; i++) {
      expect((await refused(daemon.call('strict', 'badInput', { amount: -1 }))).code).toBe(1002);
      expect((await refused(daemon.call('strict', 'noSuchRecord'))).code).toBe(4004);
      expect((await refused(daemon.call('strict', 'badParams'))).code).toBe(-32602);
      expect((await refused(daemon.call('strict', 'noSuchMethod'))).code).toBe(-32601);
    }
    const status = await daemon.status('strict');
    expect(status.circuit).toBe('closed');
    expect(status.lastError).toBeNull();
    expect(await daemon.call('strict', 'echo', 'fine')).toBe('fine');

    await openCircuit('strict');
    expect((await refused(daemon.call('strict', 'echo', 1))).code).toBe(-32003);
  });
});

describe('the log says what happened', () => {
  it('the circuit opening, half-open and closing, each failed call, with the plugin\'s name', async () => {
    await boot({ defaults: { ...FAST_DEFAULTS, circuit: { failureThreshold: 2, cooldownMs: 300 } } }, { alpha: {} });
    await daemon.waitForState('alpha', 'running');
    await openCircuit('alpha');

    const failed = await logged('alpha', 'the failed call', (e) => e.msg === 'call fail failed: 1001 boom');
    expect(failed).toMatchObject({ level: 'warn', plugin: 'alpha', method: 'fail', code: 1001 });
    const open = await logged('alpha', 'the circuit opening', (e) => e.circuit === 'open');
    expect(open).toMatchObject({ level: 'warn', plugin: 'alpha', failures: 2 });
    expect(open.msg).toBe('circuit open after 2 consecutive failed calls: calls fail fast with -32003 for 300ms');

    await waitFor('half-open', async () => (await daemon.status('alpha')).circuit === 'half-open');
    expect(await daemon.call('alpha', 'echo', 1)).toBe(1);
    const halfOpen = await logged('alpha', 'the circuit half-open', (e) => e.circuit === 'half-open');
    expect(halfOpen).toMatchObject({ level: 'info', plugin: 'alpha', msg: 'circuit half-open: the next call is a trial' });
    const closed = await logged('alpha', 'the circuit closing', (e) => e.circuit === 'closed');
    expect(closed).toMatchObject({ level: 'info', plugin: 'alpha', msg: 'circuit closed: the trial call succeeded' });
  });

  it('every operator action at info with by: "operator": start, stop, restart, enable, disable, grant, revoke', async () => {
    await boot({}, { alpha: {}, gated: { manifest: { permissions: { network: true } } } });
    await daemon.waitForState('alpha', 'running');
    await daemon.waitForState('gated', 'waiting');

    for (const verb of ['stop', 'start', 'restart', 'disable', 'enable']) await action(`plugin.${verb}`, 'alpha');
    await action('plugin.grant', 'gated');
    await daemon.waitForState('gated', 'running');
    await action('plugin.revoke', 'gated');
    await daemon.waitForState('gated', 'waiting');

    const byOperator = async (name: string) =>
      (await logOf(name)).filter((e) => e.by === 'operator').map((e) => ({ level: e.level, plugin: e.plugin, action: e.action, msg: e.msg }));
    expect(await byOperator('alpha')).toEqual(
      ['stop', 'start', 'restart', 'disable', 'enable'].map((verb) => ({
        level: 'info',
        plugin: 'alpha',
        action: verb,
        msg: `${verb} requested by the operator`,
      })),
    );
    expect(await byOperator('gated')).toEqual([
      { level: 'info', plugin: 'gated', action: 'grant', msg: 'permissions of gated 1.0.0 approved by the operator' },
      { level: 'info', plugin: 'gated', action: 'revoke', msg: 'permissions of gated withdrawn by the operator' },
    ]);
    // The restart's circuit was closed already: no circuit line for it.
    expect((await logOf('alpha')).some((e) => e.circuit !== undefined)).toBe(false);
  });

  it('a config that disables a plugin and enables it again', async () => {
    await boot({}, { alpha: {} });
    await daemon.waitForState('alpha', 'running');
    await reloadWith({ plugins: { alpha: { enabled: false } } });
    await logged('alpha', 'the disable', (e) => e.level === 'info' && e.msg === 'disabled in config (plugins.alpha.enabled: false)');
    await reloadWith({ plugins: { alpha: { enabled: true } } });
    await daemon.waitForState('alpha', 'running');
    await logged('alpha', 'the enable', (e) => e.level === 'info' && e.msg === 'enabled in config (plugins.alpha.enabled: true): starting it');
  });
});
