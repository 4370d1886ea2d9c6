import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root (the folder that holds package.json) of a module that lies directly in src/ or dist/,
 * as a file path: fileURLToPath decodes the URL (`%20` → space), which `URL.pathname` does not.
 */
export function packageRootOf(moduleUrl: string | URL): string {
  return fileURLToPath(new URL('..', moduleUrl)).replace(/\/$/, '');
}

/** The package root, from dist/ or src/ alike: every path into the package starts here. */
export const PACKAGE_ROOT = packageRootOf(import.meta.url);

/** The daemon's own version: `engines.warden` in a manifest is matched against it. */
export const WARDEN_VERSION: string = (
  JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/** The stdio protocol version sent in `warden.initialize`. */
export const PROTOCOL_VERSION = 1;
