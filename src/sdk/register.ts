/**
 * Preloaded with `node --import <file URL of this module>` (see src/sandbox/sdk-loader.ts) for plugins that
 * cannot resolve `warden/sdk` by themselves.
 */
import { register } from 'node:module';

register('./resolve-hooks.js', import.meta.url);
