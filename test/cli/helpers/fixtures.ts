import type { PluginStatus, StatusResult } from '../../../src/protocol/index.js';

export function pluginStatus(overrides: Partial<PluginStatus> = {}): PluginStatus {
  return {
    name: 'echo',
    version: '1.0.0',
    kind: 'service',
    state: 'running',
    pid: 4242,
    startedAt: new Date(Date.now() - 192_000).toISOString(), // 3m12s ago
    restarts: 0,
    circuit: 'closed',
    usage: { cpuPercent: 1.5, memoryBytes: 30 * 1048576, handles: 12, processes: 1 },
    limits: { memoryMb: 256, cpuPercent: 100, handles: 256, processes: 16 },
    enforcement: { memoryMb: 'sampling', handles: 'rlimit+sampling' },
    permissions: { fs: { read: [], write: [] }, network: false, childProcess: false, env: [] },
    reason: null,
    lastError: null,
    ...overrides,
  };
}

export const PLUGINS: PluginStatus[] = [
  pluginStatus(),
  pluginStatus({
    name: 'feed-reader',
    version: '1.2.0',
    kind: 'connector',
    state: 'backoff',
    pid: null,
    startedAt: null,
    restarts: 3,
    circuit: 'open',
    usage: null,
    reason: 'crashed (exit code 1); restarting in 800 ms — a rather long reason that goes on and on past any narrow terminal',
  }),
  pluginStatus({ name: 'broken', version: null, state: 'invalid', pid: null, startedAt: null, reason: 'plugin.json: name: required' }),
];

export const STATUS: StatusResult = { version: '1.0.0', pid: 999, uptimeMs: 7_500_000, plugins: PLUGINS, sampling: { ms: 4, plugins: 3, processes: 9 } };
