import type { BusEvent, EventBus, PublishResult, SubscriberStats } from '../bus/event-bus.js';
import { LIFECYCLE_TOPIC } from '../bus/topics.js';
import { mayCall } from '../graph/index.js';
import type { PluginRequests } from '../host/plugin-host.js';
import { ErrorCodes, RpcError } from '../protocol/index.js';
import { nodeOf, type NamedPlugin } from './graph-node.js';

/** What the router needs of a supervised plugin: its manifest, to take a call, to take an event. */
export interface RoutedPlugin extends NamedPlugin {
  call(method: string, params: unknown): Promise<unknown>;
  deliverEvent(event: BusEvent): Promise<boolean> | boolean;
}

/** The bus the router fans events out on (the supervisor's EventBus). */
export type RouterBus = Pick<EventBus, 'publish' | 'subscribe' | 'unsubscribe' | 'stats'>;

/** Where the router says an event was dropped: a pino logger is one. */
export interface RouterLog {
  warn(bindings: Record<string, unknown>, message: string): void;
}

export interface RouterOptions {
  /** The supervised plugin of that name, if any. */
  plugins: (name: string) => RoutedPlugin | undefined;
  bus: RouterBus;
  logger: RouterLog;
}

/** The error for a name no plugin has (`plugin.*` on the control socket, `warden.call` to a dependency not installed). */
export function unknownPlugin(name: string): RpcError {
  return new RpcError(ErrorCodes.UnknownPlugin, `unknown plugin: ${name}`);
}

/**
 * Where calls and events go between plugins, and from the operator: `warden.call` to a plugin in
 * the caller's dependencies (docs/protocol.md, "warden.call"), `warden.emit` of a topic in the
 * caller's `emits`, fanned out on the bus to every plugin whose `subscribes` matches it, and the
 * operator's `events.publish`. Only the caller's own manifest decides: no graph is built per call.
 */
export class Router {
  private readonly plugins: RouterOptions['plugins'];
  private readonly bus: RouterBus;
  private readonly logger: RouterLog;

  constructor(options: RouterOptions) {
    this.plugins = options.plugins;
    this.bus = options.bus;
    this.logger = options.logger;
  }

  /** What plugin `caller` may ask of the daemon (a PluginDefinition's `requests`). */
  requestsFrom(caller: string): PluginRequests {
    return {
      call: (target, method, params) => this.call(caller, target, method, params),
      emit: (topic, data) => this.emit(caller, topic, data),
    };
  }

  /** `warden.call` from `caller`: refused with PermissionDenied (-32005) unless `target` is one of its dependencies. */
  async call(caller: string, target: string, method: string, params: unknown): Promise<unknown> {
    const plugin = this.plugins(caller);
    if (!plugin || !mayCall(nodeOf(plugin), target)) {
      throw new RpcError(
        ErrorCodes.PermissionDenied,
        `plugin ${caller} may call only the plugins in its dependencies; ${target} is not one of them`,
      );
    }
    const callee = this.plugins(target);
    if (!callee) throw unknownPlugin(target);
    return callee.call(method, params);
  }

  /** `warden.emit` from `caller`: published if its manifest's `emits` names the topic, else dropped with a warning. */
  emit(caller: string, topic: string, data: unknown): void {
    const manifest = this.plugins(caller)?.manifest;
    if (!manifest?.emits.includes(topic)) {
      this.logger.warn({ plugin: caller, topic }, `event ${topic} from ${caller} dropped: it is not in its manifest's emits`);
      return;
    }
    this.bus.publish({ topic, data, source: caller });
  }

  /** A state change, published by the daemon itself on `warden.lifecycle`. */
  lifecycle(change: { plugin: string; from: string; to: string; reason: string | null }): void {
    this.bus.publish({ topic: LIFECYCLE_TOPIC, data: change, source: 'warden' });
  }

  /** `events.publish` from the operator: any topic, to every subscriber it matches. */
  publish(topic: string, data: unknown): PublishResult {
    return this.bus.publish({ topic, data, source: 'operator' });
  }

  /** Subscribes the plugin to the topics its manifest's `subscribes` names (a new manifest replaces them; none: unsubscribed). */
  subscribe(plugin: RoutedPlugin): void {
    const patterns = plugin.manifest?.subscribes ?? [];
    if (patterns.length === 0) {
      this.bus.unsubscribe(plugin.name);
      return;
    }
    this.bus.subscribe({
      name: plugin.name,
      patterns,
      deliver: (event: BusEvent) => plugin.deliverEvent(event),
    });
  }

  /** A plugin that is gone: it takes no more events, and those queued for it are dropped. */
  unsubscribe(name: string): void {
    this.bus.unsubscribe(name);
  }

  /** Its events so far: queued, delivered, dropped (all 0 for a plugin that subscribes to nothing). */
  eventStats(name: string): SubscriberStats {
    return this.bus.stats(name) ?? { queued: 0, delivered: 0, dropped: 0 };
  }
}
