// The echo plugin: a minimal warden plugin written with the SDK.
import { definePlugin, PluginError } from 'warden/sdk';

definePlugin({
  init(ctx) {
    ctx.log.info('echo ready', { version: ctx.version });
    console.log('echo: console output goes to stderr, never to the protocol');
  },

  methods: {
    /** Returns its params unchanged. */
    echo: (params) => params,

    /** {text} → the text reversed. */
    reverse: ({ text }) => {
      if (typeof text !== 'string') throw new PluginError('reverse needs {text: string}', -32602);
      return [...text].reverse().join('');
    },

    /** Always fails with code 1001: for demos of recentErrors and the circuit breaker. */
    fail: (params) => {
      throw new PluginError('echo.fail failed on purpose', 1001, { params });
    },

    /** {ms} → resolves after ms milliseconds. */
    sleep: ({ ms = 0 }) => new Promise((resolve) => setTimeout(() => resolve({ slept: ms }), Number(ms))),

    /** The plugin's process id. */
    pid: () => process.pid,
  },
});
