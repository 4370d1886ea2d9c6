/** The source files of a plugin folder the audit reads, found without following links and within bounds. */
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** Files larger than this are listed as not analyzed rather than read (2 MiB). */
export const MAX_FILE_BYTES = 2 * 1024 * 1024;
/** The most source files one audit looks at. */
export const MAX_FILES = 5000;

export type SourceLanguage = 'javascript' | 'python' | 'typescript';

export interface SourceFile {
  abs: string;
  /** Relative to the plugin folder, `/`-separated. */
  rel: string;
  language: SourceLanguage;
  size: number;
}

export interface SourceList {
  files: SourceFile[];
  /** True when more than MAX_FILES source files were there; the rest were not looked at. */
  truncated: boolean;
}

/** Folders never read: installed dependencies, caches, version control. Python venvs are found by their pyvenv.cfg. */
const SKIPPED_FOLDERS = new Set(['node_modules', '__pycache__', '.git']);

/** The language of a file name, or null for a file the audit does not read. */
export function languageOf(name: string): SourceLanguage | null {
  if (/\.(?:m|c)?js$/.test(name)) return 'javascript';
  if (name.endsWith('.py')) return 'python';
  if (/\.(?:m|c)?ts$/.test(name) && !/\.d\.(?:m|c)?ts$/.test(name)) return 'typescript';
  return null;
}

/** Every source file under `root`, breadth first, in name order, stopping after MAX_FILES. */
export async function listSources(root: string): Promise<SourceList> {
  const files: SourceFile[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const dir = queue.shift()!;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      continue; // unreadable folder: nothing the plugin can rely on either
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    if (dir !== root && entries.some((e) => e.name === 'pyvenv.cfg')) continue;
    for (const e of entries) {
      const abs = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(e.name)) queue.push(abs);
        continue;
      }
      const language = e.isFile() ? languageOf(e.name) : null;
      if (language === null) continue;
      if (files.length >= MAX_FILES) return { files, truncated: true };
      const size = await stat(abs).then((s) => s.size, () => 0);
      files.push({ abs, rel: path.relative(root, abs).split(path.sep).join('/'), language, size });
    }
  }
  return { files, truncated: false };
}
