/**
 * Which paths inside a plugin folder do not count for hot reload: tooling noise (node_modules, .git,
 * dotfiles, editor temp files) and whatever the plugin itself writes while it runs — otherwise a
 * plugin writing its output would reload itself forever.
 */
import path from 'node:path';

export interface IgnoreRules {
  /** absolute paths (folders or files) a plugin writes at run time: its declared fs.write paths, its log files */
  runtimePaths: readonly string[];
}

export const NO_RULES: IgnoreRules = { runtimePaths: [] };

/** Editor droppings: `foo~` (emacs/vim backup), vim swap files and its `4913` write test, emacs `#foo#` autosaves. */
function isEditorTemp(name: string): boolean {
  return (
    name.endsWith('~') ||
    name.endsWith('.swp') ||
    name.endsWith('.swx') ||
    name === '4913' ||
    (name.length > 1 && name.startsWith('#') && name.endsWith('#'))
  );
}

/** True for a folder/file name that is never plugin content, wherever it sits (`.#foo` is a dotfile). */
export function isIgnoredName(name: string): boolean {
  return name === 'node_modules' || name.startsWith('.') || isEditorTemp(name);
}

/** `child` is `parent` or lies under it. Both absolute and normalised. */
export function isWithin(child: string, parent: string): boolean {
  if (child === parent) return true;
  const prefix = parent.endsWith(path.sep) ? parent : parent + path.sep;
  return child.startsWith(prefix);
}

/**
 * node_modules, .git, any dotfile or dotfolder (at any depth), editor temp files (`*~`, `*.swp`, `*.swx`,
 * `4913`, `.#*`, `#*#`), and anything under runtimePaths. `relative` is the path relative to the plugin
 * folder ('' for the folder itself, which is never ignored).
 */
export function isIgnored(relative: string, absolute: string, rules: IgnoreRules): boolean {
  if (relative === '' || relative === '.') return false;
  for (const segment of relative.split(/[\\/]/)) {
    if (segment !== '' && isIgnoredName(segment)) return true;
  }
  if (rules.runtimePaths.length === 0) return false;
  const abs = path.resolve(absolute);
  // The plugin folder, derived from the two forms of the same path.
  const root = path.resolve(abs, ...relative.split(/[\\/]/).filter((s) => s !== '' && s !== '.').map(() => '..'));
  for (const raw of rules.runtimePaths) {
    const runtime = path.resolve(raw);
    // A write path that is the plugin folder (or above it) would hide every change: such a
    // declaration cannot mean "never reload", so it is disregarded here.
    if (isWithin(root, runtime)) continue;
    if (isWithin(abs, runtime)) return true;
  }
  return false;
}
