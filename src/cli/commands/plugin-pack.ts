/** `warden plugin pack [DIR] [--out DIR]`: a plugin folder as NAME-VERSION.tgz plus its sha256 (contract section 9). */
import type { Command } from 'commander';
import { PackManifestError, packPlugin } from '../../toolkit/package/pack.js';
import { UsageError } from '../exit.js';
import { globals, out, outJson } from './context.js';

/** Adds `pack` under the `plugin` command. */
export function registerPack(plugin: Command): void {
  plugin
    .command('pack')
    .description('pack a plugin folder as NAME-VERSION.tgz (npm tarball layout) and print its sha256')
    .argument('[dir]', 'the plugin folder (default: the current folder)')
    .option('--out <dir>', 'where the tarball and its .sha256 file go (default: the current folder)')
    .addHelpText(
      'after',
      `
Packs every file of the folder under package/, sorted, with one fixed time and no owners, so the same
files give the same tarball and the same sha256. Left out: node_modules, .git, __pycache__, Python
virtual environments, *.tgz, symbolic links, and the plugin's own fs.write folders (its runtime data).
Writes NAME-VERSION.tgz and NAME-VERSION.tgz.sha256 ("HASH  FILE", as sha256sum checks it).

Examples:
  $ warden plugin pack plugins/echo
  $ warden plugin pack plugins/echo --out packed --json
  $ warden plugin pack feed-reader-py --out packed`,
    )
    .action(async (dir: string | undefined, options: { out?: string }, command: Command) => {
      const { json } = globals(command);
      const result = await packPlugin(dir ?? '.', { outDir: options.out }).catch((error: unknown) => {
        if (error instanceof PackManifestError) throw new UsageError(`warden plugin pack: ${error.message}`);
        throw error;
      });
      if (json) return outJson(result);
      const lines = [
        `packed ${result.file} (${result.files.length} files, ${(result.bytes / 1024).toFixed(1)} KiB)`,
        `sha256 ${result.sha256}`,
        `integrity ${result.integrity}`,
        ...result.skipped.map((s) => `left out ${s.path}: ${s.why}`),
      ];
      out(lines.join('\n'));
    });
}
