/**
 * A copy of the built package in a temp folder, as `npm install` would lay it out somewhere else:
 * `dist/`, `package.json` and `config/warden.yaml` (its own default config, written by the test), with
 * the repository's `node_modules` linked in. Its CLI finds "the package's config" there, never in the
 * repository, whose `var/warden.sock` may belong to someone's `npm start`.
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../../..');

export interface PackageCopy {
  dir: string;
  cli: string;
  configPath: string;
  /** Writes the package's default config (YAML). */
  writeConfig(text: string): void;
  remove(): void;
}

export function copyPackage(): PackageCopy {
  const dir = mkdtempSync(join(tmpdir(), 'warden-pkg-'));
  cpSync(join(REPO, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(REPO, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  mkdirSync(join(dir, 'config'));
  const configPath = join(dir, 'config', 'warden.yaml');
  return {
    dir,
    cli: join(dir, 'dist', 'cli', 'main.js'),
    configPath,
    writeConfig: (text) => writeFileSync(configPath, text),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
