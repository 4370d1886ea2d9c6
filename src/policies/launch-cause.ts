/**
 * Why a plugin's process is being started. The supervisor says which; the rules below decide what
 * that start counts toward and what it begins with.
 * - boot: the daemon's start-up, or a new plugin folder;
 * - operator: `warden start`, `restart` or `enable`;
 * - config: a re-read config that no longer disables it (`plugins.<name>.enabled: true`);
 * - failure: the restart after a crash, hang, quota stop or failed start (after its backoff);
 * - dependency: a dependency it was waiting for is running again;
 * - approval: the operator approved what it asks for (`warden plugin grant`);
 * - reload: a fixed manifest for a plugin that was invalid;
 * - demand: a lazy plugin at rest is needed (a call, an event, a schedule, a dependent's activation).
 */
export type LaunchCause = 'boot' | 'operator' | 'config' | 'failure' | 'dependency' | 'approval' | 'reload' | 'demand';

/** RESTARTS (PluginStatus.restarts) counts the restarts failures caused: what the operator does, or the first start, is not one. */
export function countsAsRestart(cause: LaunchCause): boolean {
  return cause === 'failure';
}

/**
 * The operator's start, restart or enable (and a config that enables it again) begins with a closed
 * circuit (docs/protocol.md, "Errors and the circuit"): the operator has acted on the plugin, so its old failure streak is not held
 * against the new process. A restart after a failure keeps the circuit as it was.
 */
export function startsWithClosedCircuit(cause: LaunchCause): boolean {
  return cause === 'operator' || cause === 'config';
}
