/**
 * The Supervisor with fake hosts that answer their handshake at once: the dependency graph is worked out
 * once per change of the plugin set or of a dependency, never per state change, and its answers stay
 * right as plugins come, go and change their dependencies.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import type { DependencyGraph } from '../../src/graph/index.js';
import { createLogSystem } from '../../src/logging/index.js';
import type { DiscoveredPlugin } from '../../src/manifest/types.js';
import { noMetrics } from '../../src/metrics/types.js';
import { StateStore } from '../../src/state/store.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';
import type { HostLike } from '../../src/supervisor/host-like.js';
import { testManifest } from '../helpers/manifest.js';
import { waitFor } from '../helpers/wait.js';
import { FakeHost } from './fake-host.js';
import { capabilities } from './harness.js';

/** A host whose handshake succeeds at once. */
class ReadyHost extends FakeHost {
  override start(init: Parameters<FakeHost['start']>[0]): Promise<void> {
    const started = super.start(init);
    this.ready();
    return started;
  }
}

let dir: string;
let supervisor: Supervisor | null = null;

afterEach(async () => {
  await supervisor?.shutdown();
  supervisor = null;
  rmSync(dir, { recursive: true, force: true });
});

function makeSupervisor(): { supervisor: Supervisor; hosts: FakeHost[]; graph: () => DependencyGraph } {
  dir = mkdtempSync(join(tmpdir(), 'warden-graph-'));
  const hosts: FakeHost[] = [];
  const config = { ...defaultConfig(dir), pluginsDir: join(dir, 'plugins'), stateDir: dir };
  const s = new Supervisor(config, {
    logs: createLogSystem({ level: 'warn', dir: null, maxBytes: 1 << 20, keep: 1 }),
    store: new StateStore(dir),
    clock: { now: () => Date.now() },
    capabilities,
    metrics: noMetrics,
    createHost: (options): HostLike => {
      const host = new ReadyHost(options, hosts.length + 1);
      hosts.push(host);
      return host;
    },
  });
  supervisor = s;
  return { supervisor: s, hosts, graph: () => s['graph'] };
}

function plugin(name: string, dependencies: Record<string, string> = {}, version = '1.0.0'): DiscoveredPlugin {
  return { ok: true, dir: join(dir, 'plugins', name), manifest: testManifest({ name, version, dependencies, main: 'index.js' }) };
}

const allRunning = (s: Supervisor) => s.statuses().every((p) => p.state === 'running');

describe('the supervisor’s dependency graph', () => {
  it('is worked out once for 100 plugins starting (300 state changes), and again only when the set or a dependency changes', async () => {
    const { supervisor, graph } = makeSupervisor();
    // A chain: each depends on the one before, so every state change has a dependent to consider.
    supervisor.load(Array.from({ length: 100 }, (_, i) => plugin(`p${String(i).padStart(3, '0')}`, i > 0 ? { [`p${String(i - 1).padStart(3, '0')}`]: '^1.0.0' } : {})));
    await supervisor.bootAll();
    await waitFor('every plugin to run', () => allRunning(supervisor));
    expect(graph().computations).toBe(1);

    // A crash and its restart move states along the chain: still no working-out.
    await supervisor.get('p050').restart();
    await waitFor('every plugin to run again', () => allRunning(supervisor));
    expect(graph().computations).toBe(1);

    // A new plugin, then a changed dependency, then a removal: one each, and the answers follow.
    await supervisor.added(plugin('extra', { p099: '^1.0.0' }));
    await waitFor('extra to run', () => supervisor.get('extra').state === 'running');
    expect(graph().computations).toBe(2);
    expect(graph().directDependentsOf('p099')).toEqual(['extra']);
    await supervisor.changed(plugin('extra', { p000: '^1.0.0' }));
    expect(graph().directDependentsOf('p099')).toEqual([]);
    expect(graph().directDependentsOf('p000')).toEqual(['p001', 'extra']);
    await supervisor.removed(join(dir, 'plugins', 'extra'));
    expect(graph().directDependentsOf('p000')).toEqual(['p001']);
    expect(graph().startOrder()).toHaveLength(100);
    expect(graph().computations).toBe(4);
  });
});
