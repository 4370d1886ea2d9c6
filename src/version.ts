import { readFileSync } from 'node:fs';

/** The package root (the folder that holds package.json), from dist/ or src/ alike. */
export const PACKAGE_ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

/** The daemon's own version: `engines.warden` in a manifest is matched against it. */
export const WARDEN_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** The stdio protocol version sent in `warden.initialize`. */
export const PROTOCOL_VERSION = 1;
