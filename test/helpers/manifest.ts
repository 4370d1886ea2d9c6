import type { Manifest } from '../../src/manifest/types.js';

/** A valid manifest with every default filled in, for tests that build one by hand. */
export function testManifest(extra: Partial<Manifest> = {}): Manifest {
  return {
    name: 'p',
    version: '1.0.0',
    description: '',
    kind: 'service',
    main: 'index.js',
    engines: {},
    dependencies: {},
    permissions: { fs: { read: [], write: [] }, network: false, childProcess: false, env: [] },
    limits: {},
    schedules: [],
    subscribes: [],
    emits: [],
    config: {},
    activation: 'eager',
    idleStopMs: 300_000,
    methods: {},
    protocol: 'warden',
    ...extra,
  };
}
