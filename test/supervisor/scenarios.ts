/**
 * ManagedPlugin driven through its lifecycle on a fake clock with fake hosts: no daemon, no process.
 * Each scenario builds its own Harness. managed-plugin.test.ts runs them one test each; transitions.test.ts
 * runs them all to check the edges they drive against the state machine's table.
 */
import { expect } from 'vitest';
import { RpcError } from '../../src/protocol/index.js';
import { Harness, NAME } from './harness.js';

type Scenario = () => Promise<void>;

const CONFIG_DISABLED = `disabled in config (plugins.${NAME}.enabled: false)`;
const WAITING_FOR_GRANT = `waiting for the operator to approve: network; run \`warden plugin grant ${NAME}\``;

/** The message an operator's action was refused with, whether it throws at once or its promise rejects. */
async function refusal(action: () => Promise<unknown>): Promise<string> {
  const error = await Promise.resolve()
    .then(action)
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(RpcError);
  return (error as RpcError).message;
}

export const scenarios: Record<string, Record<string, Scenario>> = {
  'restarts after a failure': {
    'crash → backoff → restart → … → disabled once the restart budget is spent, and enable revives it': async () => {
      const h = new Harness();
      await h.bootRunning();
      expect(h.plugin.status()).toMatchObject({ state: 'running', pid: 10_001, restarts: 0, reason: null });
      expect(h.watched).toEqual([`watch ${NAME} 10001`]);

      const delays = [100, 200, 400];
      for (const [i, delay] of delays.entries()) {
        h.host.crash({ code: 1, signal: null });
        await h.settle();
        expect(h.state).toBe('backoff');
        expect(h.reason).toBe(`crash: exit code 1; restarting in ${delay}ms`);
        expect(h.plugin.status().lastError).toEqual({ time: new Date(h.clock.now()).toISOString(), kind: 'crash', message: 'exit code 1' });
        expect(h.timers.delays).toEqual([delay]);
        await h.advance(delay - 1);
        expect(h.hosts).toHaveLength(i + 1); // not a millisecond early
        await h.advance(1);
        expect(h.state).toBe('starting');
        expect(h.hosts).toHaveLength(i + 2);
        h.host.ready();
        await h.settle();
        expect(h.plugin.status()).toMatchObject({ state: 'running', restarts: i + 1, reason: null });
      }

      h.host.crash({ code: 1, signal: null });
      await h.settle();
      expect(h.state).toBe('disabled');
      expect(h.reason).toBe('4 failures in 60s; last: crash: exit code 1');
      expect(h.store.get(NAME)).toMatchObject({ disabled: true, reason: h.reason });
      expect(h.timers.delays).toEqual([]);
      await h.advance(60_000);
      expect(h.hosts).toHaveLength(4);
      expect(h.logLines('error')).toContain('disabled: 4 failures in 60s; last: crash: exit code 1');

      // enable: the persisted disable goes, the budget starts over, and it is not a restart.
      const enabled = h.plugin.enable();
      await h.settle();
      h.host.ready();
      await enabled;
      expect(h.plugin.status()).toMatchObject({ state: 'running', restarts: 3, reason: null });
      expect(h.store.get(NAME)).toBeUndefined();
      h.host.crash();
      await h.settle();
      expect(h.reason).toBe('crash: exit code 1; restarting in 100ms');
    },

    'a failed start is stopped at once and backs off; failed starts alone also spend the budget': async () => {
      const h = new Harness();
      const booted = h.plugin.boot();
      await h.settle();
      h.host.failStart('exited during start (exit code 3; last stderr: SyntaxError: Unexpected token)');
      await booted;
      expect(h.host.stops).toEqual([{ graceful: false }]);
      expect(h.state).toBe('backoff');
      expect(h.reason).toBe('start: exited during start (exit code 3; last stderr: SyntaxError: Unexpected token); restarting in 100ms');
      for (const delay of [100, 200, 400]) {
        await h.advance(delay);
        expect(h.state).toBe('starting');
        h.host.failStart('exited during start (exit code 3)');
        await h.settle();
      }
      expect(h.state).toBe('disabled');
      expect(h.reason).toBe('4 failures in 60s; last: start: exited during start (exit code 3)');
      expect(h.plugin.status()).toMatchObject({ restarts: 3, pid: null, lastError: { kind: 'start' } });
    },

    'a hang is killed (not gracefully) and counts as a failure': async () => {
      const h = new Harness();
      const first = await h.bootRunning();
      first.hang('no answer to 3 health checks');
      await h.settle();
      expect(first.stops).toEqual([{ graceful: false }]);
      expect(h.state).toBe('backoff');
      expect(h.reason).toBe('hang: no answer to 3 health checks; restarting in 100ms');
      expect(h.logLines('warn')).toContain('hung: no answer to 3 health checks; killing it');
    },

    'a quota breach stops it (memory at once) and counts; a breach that spends the budget disables it': async () => {
      const h = new Harness();
      const breach = { limit: 'memoryMb', measured: 300, allowed: 128, message: 'memory 300 MB over 128 MB' } as const;
      for (const delay of [100, 200, 400]) {
        if (h.hosts.length === 0) await h.bootRunning();
        await h.plugin.quotaBreach(breach);
        expect(h.host.stops.at(-1)).toEqual({ graceful: false, force: true });
        expect(h.state).toBe('backoff');
        expect(h.reason).toBe(`quota: memory 300 MB over 128 MB; restarting in ${delay}ms`);
        await h.advance(delay);
        h.host.ready();
        await h.settle();
      }
      expect(h.watched.filter((line) => line.startsWith('unwatch'))).toHaveLength(3);
      await h.plugin.quotaBreach(breach);
      expect(h.state).toBe('disabled');
      expect(h.reason).toBe('4 failures in 60s; last: quota: memory 300 MB over 128 MB');
    },

    'an exit it caused (stop, restart) is not a failure': async () => {
      const h = new Harness();
      await h.bootRunning();
      const restarted = h.plugin.restart();
      await h.settle();
      h.host.ready();
      await restarted;
      expect(h.plugin.status()).toMatchObject({ state: 'running', restarts: 0, lastError: null });
      await h.plugin.stop();
      await h.settle();
      expect(h.plugin.status()).toMatchObject({ state: 'stopped', restarts: 0, lastError: null, reason: null, pid: null });
    },
  },

  'operator actions': {
    'a stop during starting aborts the start: stopped, no failure, no restart later': async () => {
      const h = new Harness();
      const booted = h.plugin.boot();
      await h.settle();
      expect(h.state).toBe('starting');
      const stopped = h.plugin.stop();
      expect(h.host.killed).toBe(true);
      await booted;
      await stopped;
      expect(h.plugin.status()).toMatchObject({ state: 'stopped', reason: null, lastError: null, restarts: 0 });
      expect(h.transitions).toEqual(['stopped>starting', 'starting>stopping', 'stopping>stopped']);
      await h.advance(60_000);
      expect(h.hosts).toHaveLength(1);
      expect(h.timers.delays).toEqual([]);
    },

    'a stop during backoff cancels the restart: nothing starts later': async () => {
      const h = new Harness();
      await h.bootRunning();
      h.host.crash();
      await h.settle();
      expect(h.state).toBe('backoff');
      await h.plugin.stop();
      expect(h.plugin.status()).toMatchObject({ state: 'stopped', reason: null, lastError: { kind: 'crash' } });
      expect(h.timers.delays).toEqual([]);
      await h.advance(60_000);
      expect(h.state).toBe('stopped');
      expect(h.hosts).toHaveLength(1);
      // and a start then begins at once, with the circuit closed
      const started = h.plugin.start();
      await h.settle();
      h.host.ready();
      await started;
      expect(h.state).toBe('running');
    },

    'a stop asked for just as the backoff ends still wins: the restart that fired behind it does nothing': async () => {
      const h = new Harness();
      await h.bootRunning();
      h.host.crash();
      await h.settle();
      const stopped = h.plugin.stop(); // queued on the plugin's lock…
      h.timers.advance(100); // …and the restart timer fires behind it, before it has run
      await stopped;
      await h.settle();
      expect(h.plugin.status()).toMatchObject({ state: 'stopped', restarts: 0 });
      expect(h.hosts).toHaveLength(1);
    },

    'disable from each resting state is persisted; a disabled plugin refuses start, stop and restart': async () => {
      const running = new Harness();
      await running.bootRunning();
      await running.plugin.disable();
      expect(running.plugin.status()).toMatchObject({ state: 'disabled', reason: 'disabled by the operator', pid: null });
      expect(running.store.get(NAME)).toMatchObject({ disabled: true, reason: 'disabled by the operator' });
      expect(await refusal(() => running.plugin.start())).toBe(
        `cannot start plugin ${NAME}: it is disabled (disabled by the operator); run \`warden enable\` first`,
      );
      expect(await refusal(() => running.plugin.stop())).toContain('it is disabled');
      expect(await refusal(() => running.plugin.restart())).toContain('it is disabled');

      const stopped = new Harness();
      await stopped.plugin.disable('maintenance');
      expect(stopped.plugin.status()).toMatchObject({ state: 'disabled', reason: 'maintenance' });

      const backingOff = new Harness();
      await backingOff.bootRunning();
      backingOff.host.crash();
      await backingOff.settle();
      await backingOff.plugin.disable();
      expect(backingOff.state).toBe('disabled');
      await backingOff.advance(60_000);
      expect(backingOff.hosts).toHaveLength(1);

      const waiting = new Harness();
      waiting.dependencies = { ok: false, reason: 'waiting for beta (not running)' };
      await waiting.plugin.boot();
      await waiting.plugin.disable();
      expect(waiting.state).toBe('disabled');
    },

    'a persisted disable holds it from the start; enable while it may not run yet rests waiting': async () => {
      const h = new Harness({ persistedDisable: '4 failures in 60s; last: crash: exit code 1' });
      expect(h.plugin.status()).toMatchObject({ state: 'disabled', reason: '4 failures in 60s; last: crash: exit code 1' });
      await h.plugin.boot();
      expect(h.hosts).toHaveLength(0);
      h.approved = false;
      await h.plugin.enable();
      expect(h.plugin.status()).toMatchObject({ state: 'waiting', reason: WAITING_FOR_GRANT });
      expect(h.hosts).toHaveLength(0);
    },
  },

  'approval and dependencies': {
    'waiting for approval → grant → runs; a revoke sends it back to waiting': async () => {
      const h = new Harness();
      h.approved = false;
      await h.plugin.boot();
      expect(h.plugin.status()).toMatchObject({ state: 'waiting', reason: WAITING_FOR_GRANT, pid: null });
      expect(h.hosts).toHaveLength(0);
      expect(h.logLines('warn')).toContain(WAITING_FOR_GRANT);

      h.approved = true; // warden plugin grant
      const granted = h.plugin.reconsider();
      await h.settle();
      h.host.ready();
      await granted;
      expect(h.plugin.status()).toMatchObject({ state: 'running', reason: null, restarts: 0 });

      h.approved = false; // the grant revoked
      await h.plugin.reconsider();
      expect(h.plugin.status()).toMatchObject({ state: 'waiting', reason: WAITING_FOR_GRANT });
      expect(h.hosts[0]!.stops).toEqual([{}]);
    },

    'waits for its dependencies, starts when they are back, and follows them down': async () => {
      const h = new Harness();
      h.dependencies = { ok: false, reason: 'waiting for beta (not running)' };
      await h.plugin.boot();
      expect(h.plugin.status()).toMatchObject({ state: 'waiting', reason: 'waiting for beta (not running)' });
      await h.plugin.resume(); // still not there: stays waiting, no new transition
      expect(h.transitions).toEqual(['stopped>waiting']);

      h.dependencies = { ok: true };
      const resumed = h.plugin.resume();
      await h.settle();
      h.host.ready();
      await resumed;
      expect(h.state).toBe('running');

      await h.plugin.suspend('waiting for beta (stopped)');
      expect(h.plugin.status()).toMatchObject({ state: 'waiting', reason: 'waiting for beta (stopped)' });
      await h.plugin.shutdown();
      expect(h.state).toBe('stopped');
    },

    'a dependency that goes down during backoff: it waits instead of restarting': async () => {
      const suspended = new Harness();
      await suspended.bootRunning();
      suspended.host.crash();
      await suspended.settle();
      await suspended.plugin.suspend('waiting for beta (stopped)');
      expect(suspended.plugin.status()).toMatchObject({ state: 'waiting', reason: 'waiting for beta (stopped)' });
      await suspended.advance(60_000);
      expect(suspended.hosts).toHaveLength(1);

      // Or found missing when the backoff ends.
      const found = new Harness();
      await found.bootRunning();
      found.host.crash();
      await found.settle();
      found.dependencies = { ok: false, reason: 'waiting for beta (not running)' };
      await found.advance(100);
      expect(found.plugin.status()).toMatchObject({ state: 'waiting', reason: 'waiting for beta (not running)' });
      expect(found.hosts).toHaveLength(1);
    },

    'a waiting plugin can be stopped by the operator': async () => {
      const h = new Harness();
      h.dependencies = { ok: false, reason: 'waiting for beta (not running)' };
      await h.plugin.boot();
      await h.plugin.stop();
      expect(h.plugin.status()).toMatchObject({ state: 'stopped', reason: null });
    },
  },

  reload: {
    'a new version is swapped in blue/green: started beside the old with its snapshot, then the old drains and stops': async () => {
      const h = new Harness();
      const old = await h.bootRunning();
      h.clock.advance(5000);
      const reloaded = h.plugin.reload(h.definition({ version: '1.1.0', config: { greeting: 'hi' } }));
      await h.settle();
      expect(h.hosts).toHaveLength(2);
      expect(h.host.init).toEqual({ config: { greeting: 'hi' }, state: { count: 1 } });
      expect(await h.plugin.call('echo', 1)).toMatchObject({ from: 1 }); // the old one serves meanwhile
      h.host.ready();
      await reloaded;
      await h.settle();
      expect(h.plugin.status()).toMatchObject({
        state: 'running',
        version: '1.1.0',
        pid: 10_002,
        reason: null,
        startedAt: new Date(h.clock.now()).toISOString(),
      });
      expect(await h.plugin.call('echo', 2)).toMatchObject({ from: 2 });
      expect(old.drained).toBe(true);
      expect(old.stops).toEqual([{}]);
      expect(h.transitions).toEqual(['stopped>starting', 'starting>running']); // never left running
    },

    'a failed reload: the old instance keeps serving, reason "reload failed: …", and it costs no restart': async () => {
      const h = new Harness();
      const old = await h.bootRunning();
      const reloaded = h.plugin.reload(h.definition({ version: '2.0.0' }));
      await h.settle();
      const fresh = h.host;
      fresh.failStart('exited during start (exit code 3; last stderr: SyntaxError: Unexpected token)');
      await reloaded;
      expect(fresh.stops).toEqual([{ graceful: false }]);
      expect(h.plugin.status()).toMatchObject({
        state: 'running',
        version: '1.0.0',
        pid: old.pid,
        restarts: 0,
        reason: 'reload failed: exited during start (exit code 3; last stderr: SyntaxError: Unexpected token)',
        lastError: { kind: 'reload', message: 'exited during start (exit code 3; last stderr: SyntaxError: Unexpected token)' },
      });
      expect(await h.plugin.call('echo', null)).toMatchObject({ from: 1 });
      expect(old.stops).toEqual([]);

      // A replacement that starts but fails its health check never takes the calls either.
      const again = h.plugin.reload(h.definition({ version: '2.0.1' }));
      await h.settle();
      h.host.healthy = false;
      h.host.ready();
      await again;
      expect(h.plugin.status()).toMatchObject({ state: 'running', pid: old.pid, reason: 'reload failed: warden.health timed out' });

      // An invalid new manifest is refused the same way.
      await h.plugin.reload(h.definition({ invalid: 'version: not semver' }));
      expect(h.plugin.status()).toMatchObject({ state: 'running', pid: old.pid, reason: 'reload failed: version: not semver' });
      expect(h.transitions).toEqual(['stopped>starting', 'starting>running']);
    },

    'a reload that asks for more than was approved waits for the grant, then swaps': async () => {
      const h = new Harness();
      await h.bootRunning();
      h.approved = false;
      await h.plugin.reload(h.definition({ version: '1.1.0' }));
      expect(h.plugin.status()).toMatchObject({
        state: 'running',
        version: '1.0.0',
        reason: `reload failed: the new version asks for permissions not approved: network; run \`warden plugin grant ${NAME}\` to approve them`,
      });
      expect(h.hosts).toHaveLength(1);
      h.approved = true;
      const granted = h.plugin.reconsider();
      await h.settle();
      h.host.ready();
      await granted;
      expect(h.plugin.status()).toMatchObject({ state: 'running', version: '1.1.0', reason: null });
    },

    'an invalid manifest makes a stopped, waiting or backing-off plugin invalid; a fixed one starts it': async () => {
      const stopped = new Harness();
      await stopped.plugin.reload(stopped.definition({ invalid: 'missing "main"' }));
      expect(stopped.plugin.status()).toMatchObject({ state: 'invalid', reason: 'missing "main"' });
      expect(await refusal(() => stopped.plugin.start())).toBe(`cannot start plugin ${NAME}: it is invalid (missing "main")`);
      const fixed = stopped.plugin.reload(stopped.definition());
      await stopped.settle();
      stopped.host.ready();
      await fixed;
      expect(stopped.plugin.status()).toMatchObject({ state: 'running', reason: null });

      const backingOff = new Harness();
      await backingOff.bootRunning();
      backingOff.host.crash();
      await backingOff.settle();
      await backingOff.plugin.reload(backingOff.definition({ invalid: 'missing "main"' }));
      expect(backingOff.state).toBe('invalid');
      await backingOff.advance(60_000);
      expect(backingOff.hosts).toHaveLength(1); // the restart timer went with it

      const waiting = new Harness();
      waiting.dependencies = { ok: false, reason: 'waiting for beta (not running)' };
      await waiting.plugin.boot();
      await waiting.plugin.reload(waiting.definition({ invalid: 'missing "main"' }));
      expect(waiting.state).toBe('invalid');
    },

    'a start aborted while a reload that makes it invalid is queued: invalid, and the stop is refused': async () => {
      const h = new Harness();
      const booted = h.plugin.boot();
      await h.settle();
      const reloaded = h.plugin.reload(h.definition({ invalid: 'missing "main"' }));
      const stopped = refusal(() => h.plugin.stop()); // kills the starting process; runs after the reload
      await booted;
      await reloaded;
      expect(h.state).toBe('invalid');
      expect(await stopped).toBe(`cannot stop plugin ${NAME}: it is invalid (missing "main")`);
      expect(h.host.killed).toBe(true);
    },
  },

  'the config': {
    'enabled: false stops it and holds it disabled (not persisted); enable is refused; enabled: true starts it': async () => {
      const h = new Harness();
      const old = await h.bootRunning();
      await h.plugin.reload(h.definition({ enabledByConfig: false }));
      expect(h.plugin.status()).toMatchObject({ state: 'disabled', reason: CONFIG_DISABLED, pid: null });
      expect(old.stops).toEqual([{}]);
      expect(h.store.get(NAME)).toBeUndefined();
      expect(h.logLines('info')).toContain(CONFIG_DISABLED);
      expect(await refusal(() => h.plugin.enable())).toBe(
        `cannot enable plugin ${NAME}: it is ${CONFIG_DISABLED}; set plugins.${NAME}.enabled: true in the config and run \`warden reload\``,
      );

      const released = h.plugin.reload(h.definition({ enabledByConfig: true }));
      await h.settle();
      h.host.ready();
      await released;
      expect(h.plugin.status()).toMatchObject({ state: 'running', reason: null });
      expect(h.logLines('info')).toContain(`enabled in config (plugins.${NAME}.enabled: true): starting it`);
    },

    'a config-disabled plugin whose manifest breaks is invalid, and disabled again once fixed': async () => {
      const h = new Harness({ definition: { enabledByConfig: false } });
      expect(h.plugin.status()).toMatchObject({ state: 'disabled', reason: CONFIG_DISABLED });
      await h.plugin.reload(h.definition({ enabledByConfig: false, invalid: 'missing "main"' }));
      expect(h.plugin.status()).toMatchObject({ state: 'invalid', reason: 'missing "main"' });
      await h.plugin.reload(h.definition({ enabledByConfig: false }));
      expect(h.plugin.status()).toMatchObject({ state: 'disabled', reason: CONFIG_DISABLED });
      expect(h.hosts).toHaveLength(0);
    },

    'the operator\'s disable outlasts the config: enabled: true again leaves it disabled': async () => {
      const h = new Harness({ persistedDisable: 'disabled by the operator' });
      await h.plugin.reload(h.definition({ enabledByConfig: false }));
      await h.plugin.reload(h.definition({ enabledByConfig: true }));
      expect(h.plugin.status()).toMatchObject({ state: 'disabled', reason: 'disabled by the operator' });
      expect(h.hosts).toHaveLength(0);
    },
  },
};
