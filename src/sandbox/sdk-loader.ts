import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../version.js';

/** File URL of the compiled preload module that maps `warden/sdk` to this SDK. */
export const SDK_REGISTER_URL: string = pathToFileURL(join(PACKAGE_ROOT, 'dist', 'sdk', 'register.js')).href;

/**
 * Extra node arguments for running a JS plugin found in `pluginDir` without the wall (behind it the SDK
 * is bound where node's resolution finds it): none when `warden/sdk` already resolves from there (a
 * dependency, or package self-reference inside this repository), else `--import <register.js>` so the
 * import resolves to this SDK.
 */
export function sdkLoaderArgs(pluginDir: string): string[] {
  try {
    createRequire(join(pluginDir, 'x.js')).resolve('warden/sdk');
    return [];
  } catch {
    return ['--import', SDK_REGISTER_URL];
  }
}
