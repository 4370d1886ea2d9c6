/**
 * The entry file named by a manifest's `main`: the daemon runs it with its own node (docs/manifest.md, "main or command"), so it
 * must be JavaScript node runs as it is. A TypeScript `main` would pass every other check, then fail at
 * every start until the plugin is disabled; it is refused up front instead, with what to do about it.
 */

/** discover.ts's MANIFEST_FILE, spelled out here so the two modules do not import each other. */
const MANIFEST_FILE = 'plugin.json';

/** The extensions node runs as an entry module (.js per the nearest package.json's `type`). */
export const JS_ENTRY_EXTENSIONS = ['.js', '.mjs', '.cjs'] as const;
/** TypeScript sources, which node 20 cannot run without a loader or a build. */
export const TS_EXTENSIONS = ['.ts', '.mts', '.cts', '.tsx'] as const;

/** The extension of the last path segment, from its last dot ('' for none, or for a dotfile). */
function extensionOf(main: string): string {
  const base = main.slice(main.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot) : '';
}

/** Why `main` names a TypeScript file, or null. Case-insensitive: `INDEX.TS` is TypeScript too. */
export function typeScriptEntryProblem(main: string): string | null {
  const ext = extensionOf(main).toLowerCase();
  if (!(TS_EXTENSIONS as readonly string[]).includes(ext)) return null;
  return `${MANIFEST_FILE}: main: ${main} is TypeScript, which node 20 cannot run; compile it (tsc) and point main at the .js file`;
}

/** Why `main` is not a file node runs as JavaScript (.js, .mjs, .cjs; node itself is case-sensitive), or null. */
export function javaScriptEntryProblem(main: string): string | null {
  const ts = typeScriptEntryProblem(main);
  if (ts) return ts;
  if ((JS_ENTRY_EXTENSIONS as readonly string[]).includes(extensionOf(main))) return null;
  return (
    `${MANIFEST_FILE}: main: ${main} is not a JavaScript file (.js, .mjs or .cjs), which is all node runs; ` +
    `point main at one, or start any other executable with "command" instead (e.g. ["python3", "main.py"])`
  );
}

/**
 * Every problem with `main`, the first one found: a TypeScript entry (whether it exists or not: the fix is
 * the same), then `located` (does the file exist inside the plugin folder: the caller's check), then an
 * entry that is not JavaScript. Null when node can run it.
 */
export async function validateEntry(main: string, located: () => Promise<string | null>): Promise<string | null> {
  return typeScriptEntryProblem(main) ?? (await located()) ?? javaScriptEntryProblem(main);
}
