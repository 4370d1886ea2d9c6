import { stat } from 'node:fs/promises';
import { ExitCode } from '../protocol/index.js';
import { ConfigError, loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { controlMethods } from '../control/methods.js';
import type { ReloadResult } from '../protocol/index.js';
import { listenControl, SocketInUseError, type ControlServer } from '../control/server.js';
import { createLogSystem, type LogSystem } from '../logging/index.js';
import type { MetricsServer } from '../metrics/index.js';
import { noMetrics, type PluginMetrics } from '../metrics/types.js';
import { discoverPlugins, loadPlugin } from '../manifest/discover.js';
import { PluginsWatcher, type LoadedBefore, type PluginFolderChange } from '../reload/watcher.js';
import { systemClock } from '../policies/clock.js';
import { claimCgroup, describeCapabilities, detectCapabilities } from '../sandbox/capabilities.js';
import { StateStore } from '../state/store.js';
import { ToolMemory } from '../state/tool-memory.js';
import { Supervisor } from '../supervisor/supervisor.js';
import { WARDEN_VERSION } from '../version.js';
import { releaseYoungGeneration } from './young-generation.js';


export interface DaemonOptions {
  configPath: string;
}

/**
 * Runs the supervisor in the foreground until SIGTERM/SIGINT (what systemd starts).
 * It owns the process: signals, exit codes and last-resort error handling.
 */
export async function runDaemon(options: DaemonOptions): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(options.configPath, { checkHost: true });
  } catch (error) {
    process.stderr.write(`${error instanceof ConfigError ? error.message : `config: ${(error as Error).message}`}\n`);
    process.exit(ExitCode.Config);
  }

  const logs = createLogSystem({ ...config.logging, stdout: true });
  const logger = logs.logger;
  logger.info(
    { version: WARDEN_VERSION, config: config.file, pluginsDir: config.pluginsDir },
    `warden ${WARDEN_VERSION} starting (pid ${process.pid})`,
  );
  // What the keys bound at start (pluginsDir, socket, hotReload…) hold for as long as this process runs.
  const boundAtStart = config;
  const missingPlugins = await pluginsDirWarning(boundAtStart.pluginsDir, boundAtStart.hotReload.enabled);
  if (missingPlugins) logger.warn(missingPlugins);
  // Detection only reads; the cgroup claim (and the sweep of earlier daemons' leftovers) is this explicit step, before any spawn.
  const capabilities = claimCgroup(await detectCapabilities({ sandboxUser: config.sandbox.user }));
  // What contains plugins on this host, said once; anything unenforced is a warning, never silent.
  for (const { level, text } of describeCapabilities(capabilities)) logger[level](`sandbox: ${text}`);
  if ((!capabilities.wall || !capabilities.cgroup) && config.sandbox.require) {
    logger.error('sandbox: sandbox.require is true and the wall is incomplete (see above): no plugin will start until the host can build it and the daemon restarts');
  }

  const store = new StateStore(config.stateDir);
  await store.load();
  for (const warning of store.loadWarnings()) logger.warn(warning);
  const tools = new ToolMemory(config.stateDir, (message) => logger.warn(message));
  for (const warning of await tools.load()) logger.warn(warning);

  const { metrics, server: metricsServer } = await startMetrics(config, logs);
  const supervisor = new Supervisor(config, { logs, store, tools, clock: systemClock, capabilities, metrics });
  const startedAtMs = Date.now();

  /** The hot-reload watcher, once started: `warden reload` also looks at every plugin folder again. */
  let watcher: PluginsWatcher | null = null;
  const reload = async (): Promise<ReloadResult> => {
    let next: Config;
    try {
      next = loadConfig(options.configPath, { checkHost: true });
    } catch (error) {
      // Every problem, one line each (the CLI prints them as they are); one log entry listing them all.
      const problems = error instanceof ConfigError ? error.lines : [`config: ${(error as Error).message}`];
      logger.error({ problems }, `reload refused, keeping the running config: ${problems.join('; ')}`);
      return { ok: false, error: problems.join('\n') };
    }
    // Said in the log and handed to the client that asked (`warden reload` prints them).
    const warnings: string[] = [];
    const restartOnly = restartOnlyKeysWarning(boundAtStart, next);
    if (restartOnly) warnings.push(restartOnly);
    config = next;
    logs.setLevel(next.logging.level);
    await supervisor.applyConfig(next);
    await watcher?.rescan();
    const missing = await pluginsDirWarning(boundAtStart.pluginsDir, boundAtStart.hotReload.enabled);
    if (missing) warnings.push(missing);
    logger.info(`config reloaded from ${next.file}`);
    for (const warning of warnings) logger.warn(warning);
    return warnings.length > 0 ? { ok: true, warnings } : { ok: true };
  };

  // Every plugin is listed (stopped, invalid or disabled) before the first client can ask.
  // The watcher, started after the first spawns, reports what changed from this moment on.
  const discoveredAt = Date.now();
  const discovered = await discoverPlugins(config.pluginsDir);
  supervisor.load(discovered);

  let control: ControlServer;
  try {
    control = await listenControl(
      config.socket,
      controlMethods({ version: WARDEN_VERSION, startedAtMs, supervisor, logs, reload }),
      logger,
    );
  } catch (error) {
    const message = (error as Error).message;
    process.stderr.write(`warden: cannot open the control socket ${config.socket.path}: ${message}\n`);
    logger.fatal(`cannot open the control socket: ${message}`);
    await logs.close();
    process.exit(error instanceof SocketInUseError ? ExitCode.Unreachable : 1);
  }
  logger.info({ socket: config.socket.path }, `control socket listening on ${config.socket.path}`);

  // Signals are handled from the moment a client can reach the daemon: a SIGTERM now is a clean stop.
  const running: Running = { supervisor, control, logs, reload, metricsServer, store, tools, watcher: null };
  installSignalHandlers(running);
  process.on('unhandledRejection', (reason) => {
    logger.error({ stack: (reason as Error)?.stack }, `unhandled rejection: ${(reason as Error)?.message ?? reason}`);
  });

  const booted = supervisor.bootAll();
  if (config.hotReload.enabled) {
    running.watcher = watchPlugins(config, supervisor, logs, { dirs: discovered.map((plugin) => plugin.dir), sinceMs: discoveredAt });
    watcher = running.watcher;
  }
  await booted;
  releaseYoungGeneration();
  const plugins = supervisor.statuses();
  logger.info(
    { running: plugins.filter((p) => p.state === 'running').length, total: plugins.length },
    'all plugins started or accounted for',
  );
}

interface Running {
  supervisor: Supervisor;
  control: ControlServer;
  metricsServer: MetricsServer | null;
  store: StateStore;
  tools: ToolMemory;
  watcher: PluginsWatcher | null;
  logs: LogSystem;
  reload: () => Promise<ReloadResult>;
}

/** How long a forced shutdown waits for its kills to finish before it exits. */
const FORCED_KILL_WAIT_MS = 3000;

function installSignalHandlers(running: Running): void {
  const { supervisor, control, logs, reload, metricsServer, store, tools } = running;
  const logger = logs.logger;
  let shuttingDown = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (shuttingDown) {
      logger.warn(`${signal} again during shutdown: killing every plugin now`);
      // The kills are awaited (briefly): a v1 cgroup kill freezes, kills, then thaws, and a daemon gone
      // between the two would leave its plugins frozen with SIGKILL pending.
      const killed = supervisor.killAll().catch((error: Error) => logger.error(`forced kill: ${error.message}`));
      void Promise.race([killed, new Promise((resolve) => setTimeout(resolve, FORCED_KILL_WAIT_MS))])
        .then(() => store.flush())
        .catch(() => undefined)
        .then(() => logs.close())
        .finally(() => process.exit(0));
      return;
    }
    shuttingDown = true;
    logger.info(`${signal}: stopping every plugin`);
    void (async () => {
      await running.watcher?.close().catch(() => undefined);
      await control.close().catch(() => undefined);
      await metricsServer?.close().catch(() => undefined);
      await supervisor.shutdown();
      await store.flush().catch((error: Error) => logger.error(`could not write ${store.file}: ${error.message}`));
      await tools.flush();
      logger.info('all plugins stopped; exiting');
      await logs.close();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('SIGHUP', () => {
    logger.info('SIGHUP: reloading the config');
    void reload();
  });
}

/**
 * Some keys are bound at start-up; say so rather than pretend they were applied (null: none differ).
 * `current` is the config the daemon started with, so every reload repeats it until a restart.
 */
function restartOnlyKeysWarning(current: Config, next: Config): string | null {
  const changed: string[] = [];
  if (current.pluginsDir !== next.pluginsDir) changed.push('pluginsDir');
  if (current.stateDir !== next.stateDir) changed.push('stateDir');
  if (JSON.stringify(current.socket) !== JSON.stringify(next.socket)) changed.push('socket');
  if (JSON.stringify(current.hotReload) !== JSON.stringify(next.hotReload)) changed.push('hotReload');
  if (current.metrics.listen !== next.metrics.listen) changed.push('metrics.listen');
  if (current.sandbox.user !== next.sandbox.user) changed.push('sandbox.user');
  if (current.logging.dir !== next.logging.dir || current.logging.maxBytes !== next.logging.maxBytes || current.logging.keep !== next.logging.keep) {
    changed.push('logging.dir/maxBytes/keep');
  }
  return changed.length > 0 ? `config reload: ${changed.join(', ')} take effect after a daemon restart` : null;
}

/**
 * A pluginsDir that is not there is no error (the watcher waits for it to appear), but an operator
 * who sees no plugins should be told why: said once at start and again on each reload.
 */
async function pluginsDirWarning(pluginsDir: string, hotReload: boolean): Promise<string | null> {
  const until = hotReload ? '' : ' and the daemon restarts (hotReload.enabled is false)';
  try {
    if ((await stat(pluginsDir)).isDirectory()) return null;
    return `pluginsDir ${pluginsDir} is not a folder; no plugins are loaded until it is${until}`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return `pluginsDir ${pluginsDir} does not exist; no plugins are loaded until it does${until}`;
    return `pluginsDir ${pluginsDir} cannot be read: ${(error as Error).message}`;
  }
}

/** Prometheus metrics when `metrics.listen` is set; otherwise a no-op that costs nothing per call. */
async function startMetrics(config: Config, logs: LogSystem): Promise<{ metrics: PluginMetrics; server: MetricsServer | null }> {
  if (config.metrics.listen === null) return { metrics: noMetrics, server: null };
  const { createPluginMetrics, serveMetrics } = await import('../metrics/index.js');
  const { metrics, registry } = createPluginMetrics();
  try {
    const server = await serveMetrics(config.metrics.listen, registry);
    logs.logger.info(`metrics at http://${config.metrics.listen}/metrics`);
    return { metrics, server };
  } catch (error) {
    // The operator asked for metrics: say loudly that they are not there, but keep supervising.
    logs.logger.error(`metrics: cannot listen on ${config.metrics.listen}: ${(error as Error).message}`);
    return { metrics: noMetrics, server: null };
  }
}

/**
 * Hot reload: a new plugin folder starts, a removed one stops, a changed one is swapped blue/green.
 * The watcher's initial scan runs beside the first spawns; what changed since `loaded` is reported when it ends.
 */
function watchPlugins(config: Config, supervisor: Supervisor, logs: LogSystem, loaded: LoadedBefore): PluginsWatcher {
  const logger = logs.logger;
  const apply = async (change: PluginFolderChange): Promise<void> => {
    logger.info({ dir: change.dir }, `plugin folder ${change.kind}: ${change.dir}`);
    if (change.kind === 'removed') return supervisor.removed(change.dir);
    const entry = await loadPlugin(change.dir);
    if (change.kind === 'added') return supervisor.added(entry);
    return supervisor.changed(entry);
  };
  const watcher = new PluginsWatcher({
    pluginsDir: config.pluginsDir,
    debounceMs: config.hotReload.debounceMs,
    // What a plugin writes while it runs is not a change to it.
    rulesFor: (dir) => ({ runtimePaths: [...supervisor.runtimePaths(dir), config.logging.dir, config.stateDir] }),
    onChange: (change) => {
      apply(change).catch((error: Error) => logger.error({ dir: change.dir }, `hot reload of ${change.dir} failed: ${error.message}`));
    },
    onError: (error) => logger.error(`hot reload watcher: ${error.message}`),
  });
  watcher.start(loaded).then(
    () => logger.info(`watching ${config.pluginsDir} for plugin changes (debounce ${config.hotReload.debounceMs}ms)`),
    (error: Error) => logger.error(`hot reload watcher: cannot start: ${error.message}`),
  );
  return watcher;
}
