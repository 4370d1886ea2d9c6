/** `warden plugin new --lang ts`: src/index.ts on warden/sdk, built by tsc into dist/index.js (what plugin.json runs). */
import { manifestJson, nodeTest, readme, type ScaffoldContext } from './common.js';

/** src/index.ts: the JavaScript plugin, typed. */
const INDEX_TS = `// __NAME__: a warden plugin written with the SDK, in TypeScript. \`npm run build\` compiles it to dist/index.js.
import { definePlugin, PluginError, type PluginContext } from 'warden/sdk';

/** What greet takes: checked by the daemon against plugin.json's methods.greet.params before it arrives. */
interface GreetParams {
  name?: unknown;
}

/** What this plugin hands to its next instance on a hot reload. */
interface State {
  greetings: number;
}

let greetings = 0;

/** The count from the previous instance's snapshot, or 0 for a fresh start. */
function restoredCount(state: unknown): number {
  const count = (state as Partial<State> | null)?.greetings;
  return typeof count === 'number' ? count : 0;
}

definePlugin({
  init(ctx: PluginContext) {
    greetings = restoredCount(ctx.state);
    ctx.log.info('__NAME__ ready', { greetings });
  },

  methods: {
    /** {name} → "Hello, NAME!" */
    greet({ name }: GreetParams): string {
      if (typeof name !== 'string' || name === '') throw new PluginError('greet needs {name: string}', -32602);
      greetings += 1;
      return \`Hello, \${name}!\`;
    },
  },

  health: () => ({ ok: true, greetings }),
  snapshot: (): State => ({ greetings }),
});
`;

/** An ES module package with the build script; typescript for \`npm install\` + \`npm run build\`. */
const PACKAGE_JSON = `{
  "name": "__NAME__",
  "version": "0.1.0",
  "private": true,
  "type": "module",
  "scripts": {
    "build": "tsc -p tsconfig.json",
    "test": "npm run build && node --test"
  },
  "devDependencies": {
    "typescript": "^5.9.3"
  }
}
`;

/**
 * tsconfig.json: \`warden/sdk\` type-checks through \`paths\` against this warden installation's declarations,
 * from any folder; tsc leaves the import as written, and the daemon resolves it at run time.
 */
function tsconfig(ctx: ScaffoldContext): string {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      rootDir: 'src',
      outDir: 'dist',
      strict: true,
      skipLibCheck: true,
      types: [],
      paths: { 'warden/sdk': [`${ctx.wardenRoot}/dist/sdk/index.d.ts`] },
    },
    include: ['src'],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** What the README says about the files. */
const FILES = `## Files

- \`plugin.json\`: the manifest (\`"main": "dist/index.js"\`, the built file: node 20 cannot run TypeScript)
- \`src/index.ts\`: the plugin, on \`warden/sdk\` (the daemon provides it at run time: nothing to install)
- \`tsconfig.json\`: compiles \`src/\` to \`dist/\`; its \`paths\` entry points \`warden/sdk\` at the declarations of
  the warden installation that generated this folder (__WARDEN__). If warden moves, fix that path, or
  \`npm install\` warden here and remove the \`paths\` entry
- \`package.json\`: \`"type": "module"\` and the \`build\` script
- \`test/greet.test.mjs\`: the test, run against \`dist/index.js\`
`;

/** How to rebuild, for the README. */
const BUILD = `## Build it

\`warden plugin new\` built \`dist/index.js\` once. After each change to \`src/\`, rebuild:

\`\`\`sh
npm install        # once: installs typescript
npm run build      # or: npx tsc -p tsconfig.json
\`\`\`

The daemon runs \`dist/index.js\`: a hot reload picks up the rebuilt file.
`;

/** Every file of a TypeScript plugin, by path relative to its folder (dist/ comes from the build). */
export function typescriptFiles(ctx: ScaffoldContext): Record<string, string> {
  const named = (text: string) => text.replaceAll('__NAME__', ctx.name);
  return {
    'plugin.json': manifestJson(ctx, { main: 'dist/index.js' }),
    'src/index.ts': named(INDEX_TS),
    'tsconfig.json': tsconfig(ctx),
    'package.json': named(PACKAGE_JSON),
    'test/greet.test.mjs': nodeTest(ctx, 'dist/index.js'),
    'README.md': readme(ctx, FILES.replace('__WARDEN__', ctx.wardenRoot), BUILD),
  };
}
