/** `warden plugin new --lang js`: index.js on warden/sdk, package.json (an ES module), the node:test test. */
import { manifestJson, nodeTest, readme, type ScaffoldContext } from './common.js';

/** index.js: greet, and the greeting count carried through snapshot/state. */
const INDEX_JS = `// __NAME__: a warden plugin written with the SDK. The daemon resolves 'warden/sdk' to its own SDK.
import { definePlugin, PluginError } from 'warden/sdk';

let greetings = 0; // handed to the next instance on a hot reload (snapshot → state)

definePlugin({
  init(ctx) {
    greetings = ctx.state?.greetings ?? 0;
    ctx.log.info('__NAME__ ready', { greetings });
  },

  methods: {
    /** {name} → "Hello, NAME!" */
    greet({ name }) {
      if (typeof name !== 'string' || name === '') throw new PluginError('greet needs {name: string}', -32602);
      greetings += 1;
      return \`Hello, \${name}!\`;
    },
  },

  health: () => ({ ok: true, greetings }),
  snapshot: () => ({ greetings }),
});
`;

/** Tells node that index.js is an ES module, and gives `npm test`. */
const PACKAGE_JSON = `{
  "name": "__NAME__",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "scripts": {
    "test": "node --test"
  }
}
`;

/** What the README says about the files. */
const FILES = `## Files

- \`plugin.json\`: the manifest (\`"main": "index.js"\`)
- \`index.js\`: the plugin, on \`warden/sdk\` (the daemon provides it: nothing to install)
- \`package.json\`: \`"type": "module"\`, so node runs \`index.js\` as an ES module
- \`test/greet.test.mjs\`: the test (\`node --test\` or \`npm test\`)
`;

/** Every file of a JavaScript plugin, by path relative to its folder. */
export function javascriptFiles(ctx: ScaffoldContext): Record<string, string> {
  const named = (text: string) => text.replaceAll('__NAME__', ctx.name);
  return {
    'plugin.json': manifestJson(ctx, { main: 'index.js' }),
    'index.js': named(INDEX_JS),
    'package.json': named(PACKAGE_JSON),
    'test/greet.test.mjs': nodeTest(ctx, 'index.js'),
    'README.md': readme(ctx, FILES, ''),
  };
}
