import type { PluginDefinition } from './definition.js';
import type { HostLike } from './host-like.js';

/**
 * Blue/green, for any HostLike: starts the replacement for a running instance beside it. The old
 * one's `warden.snapshot` goes to the new one as `state`, and the new one must answer its handshake
 * and a health check before it may take calls. On any failure the replacement is stopped and the
 * error thrown; the old instance is never touched here (it keeps serving until the caller swaps).
 */
export async function startReplacement(
  old: HostLike,
  next: PluginDefinition,
  createHost: (definition: PluginDefinition) => HostLike,
  options: { snapshotTimeoutMs: number; onSnapshotFailure: (error: Error) => void },
): Promise<HostLike> {
  const state = await old.request('warden.snapshot', {}, options.snapshotTimeoutMs).catch((error: Error) => {
    options.onSnapshotFailure(error);
    return null;
  });
  let fresh: HostLike | null = null;
  try {
    fresh = createHost(next);
    await fresh.start({ config: next.config, state });
    await fresh.request('warden.health', {}, next.settings.health.timeoutMs);
    return fresh;
  } catch (error) {
    await fresh?.stop(next.settings.stopTimeoutMs, { graceful: false });
    throw error;
  }
}

/** Lets a swapped-out instance answer its calls in flight, then stops it. */
export async function retire(old: HostLike, definition: PluginDefinition): Promise<void> {
  await old.drain(definition.settings.callTimeoutMs);
  await old.stop(definition.settings.stopTimeoutMs);
}
