/** `warden plugin new NAME [--lang js|ts|python] [--kind K] [--dir D]`: a plugin folder that works as generated. */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { PLUGIN_KINDS } from '../../manifest/schema.js';
import { LANGS, ScaffoldError, scaffoldPlugin, type Lang, type ScaffoldResult } from '../../toolkit/scaffold/index.js';
import { CliFailure, ExitCode, UsageError } from '../exit.js';
import { globals, out, outJson } from './context.js';

/** Adds `new` under the `plugin` command. */
export function registerNew(plugin: Command): void {
  plugin
    .command('new')
    .description('writes a new plugin folder (plugin.json with a described method, the code, a README and a test) that passes `warden plugin validate` as generated')
    .argument('<name>', 'the plugin name: lowercase letters, digits and -, starting with a letter or a digit')
    .addOption(new Option('--lang <lang>', 'the language').choices([...LANGS]).default('js'))
    .addOption(new Option('--kind <kind>', 'the kind in plugin.json').choices([...PLUGIN_KINDS]).default('service'))
    .option('--dir <dir>', 'where to write it (default: ./NAME); an existing folder must be empty')
    .addHelpText(
      'after',
      `
js: index.js on warden/sdk. ts: src/index.ts, built once now into dist/index.js (rebuild with
\`npm run build\`). python: main.py, the protocol by hand with the standard library.
Each gets a greet method ({name} → "Hello, NAME!"), a README, and a test that needs no daemon
(node --test, or python3 -m unittest).

Exit codes: 0 written · 1 written, but the TypeScript build failed · ${ExitCode.Usage} bad name or option, or the folder is not empty

Examples:
  $ warden plugin new feed-reader
  $ warden plugin new feed-reader-ts --lang ts --kind connector
  $ warden plugin new feed-reader-py --lang python --dir feed-reader-py`,
    )
    .action(async (name: string, options: { lang: Lang; kind: string; dir?: string }, command: Command) => {
      let result: ScaffoldResult;
      try {
        result = await scaffoldPlugin({ name, lang: options.lang, kind: options.kind, ...(options.dir !== undefined ? { dir: options.dir } : {}) });
      } catch (error) {
        if (error instanceof ScaffoldError) throw new UsageError(`warden plugin new: ${error.message}`);
        throw error;
      }
      if (globals(command).json) outJson({ dir: result.dir, files: result.files });
      else out(formatNew(result, options.lang));
      if (result.build?.ran && !result.build.ok) throw new CliFailure(`warden plugin new: the TypeScript build failed: ${result.build.detail}`, ExitCode.DaemonError);
    });
}

/** What was written, then the next steps, with the folder as the user would type it. */
export function formatNew(result: ScaffoldResult, lang: Lang): string {
  const shown = path.relative(process.cwd(), result.dir) || '.';
  const at = shown.startsWith('..') ? result.dir : shown;
  const lines = [`wrote ${result.dir}:`, ...result.files.map((f) => `  ${f}`)];
  if (result.build && !result.build.ok) lines.push('', `! not built: ${result.build.detail}`);
  lines.push('', 'next steps:', `  cd ${at}`);
  if (lang === 'ts') lines.push('  npm install && npm run build   # after each change to src/ (or: npx tsc -p tsconfig.json)');
  lines.push(
    `  ${lang === 'python' ? 'python3 -m unittest' : 'node --test'}             # the test, without a daemon`,
    '  warden plugin validate .        # every problem at once',
    '  warden plugin test .            # the plugin behind the real wall',
    "  then copy or link the folder into the daemon's pluginsDir",
  );
  return lines.join('\n');
}
