/**
 * Module resolution hooks (installed by register.ts) that let a plugin outside this package
 * `import … from 'warden/sdk'` without installing anything: the specifiers `warden/sdk` and
 * `warden` resolve to the SDK module next to this file; everything else passes through.
 */
import type { ResolveHook } from 'node:module';

const SDK_URL = new URL('./index.js', import.meta.url).href;

export const resolve: ResolveHook = (specifier, context, nextResolve) => {
  if (specifier === 'warden/sdk' || specifier === 'warden') return { url: SDK_URL, format: 'module', shortCircuit: true };
  return nextResolve(specifier, context);
};
