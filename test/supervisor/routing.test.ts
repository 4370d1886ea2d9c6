import { beforeEach, describe, expect, it } from 'vitest';
import { EventBus, type BusEvent } from '../../src/bus/event-bus.js';
import type { Manifest } from '../../src/manifest/types.js';
import { ErrorCodes, RpcError } from '../../src/protocol/index.js';
import { Router, type RoutedPlugin } from '../../src/supervisor/routing.js';
import { testManifest } from '../helpers/manifest.js';

/** A supervised plugin as the router sees it: a manifest, calls it answers, events it takes. */
class FakePlugin implements RoutedPlugin {
  readonly calls: [method: string, params: unknown][] = [];
  readonly events: BusEvent[] = [];
  running = true;

  constructor(
    readonly name: string,
    readonly manifest: Manifest | null,
  ) {}

  async call(method: string, params: unknown): Promise<unknown> {
    this.calls.push([method, params]);
    return { from: this.name, method };
  }

  deliverEvent(event: BusEvent): boolean {
    if (!this.running) return false;
    this.events.push(event);
    return true;
  }
}

function plugin(name: string, extra: Partial<Manifest> = {}): FakePlugin {
  return new FakePlugin(name, testManifest({ name, ...extra }));
}

let plugins: Map<string, FakePlugin>;
let bus: EventBus;
let warnings: [fields: Record<string, unknown>, message: string][];
let router: Router;

function add(...list: FakePlugin[]): void {
  for (const p of list) {
    plugins.set(p.name, p);
    router.subscribe(p);
  }
}

beforeEach(() => {
  plugins = new Map();
  bus = new EventBus();
  warnings = [];
  router = new Router({
    plugins: (name) => plugins.get(name),
    bus,
    logger: { warn: (fields, message) => warnings.push([fields, message]) },
  });
});

describe('warden.call', () => {
  it('passes a call to a plugin in the caller’s dependencies, and answers with its result', async () => {
    add(plugin('web', { dependencies: { db: '^1.0.0' } }), plugin('db'));
    const requests = router.requestsFrom('web');
    await expect(requests.call('db', 'query', { sql: 'select 1' })).resolves.toEqual({ from: 'db', method: 'query' });
    expect(plugins.get('db')!.calls).toEqual([['query', { sql: 'select 1' }]]);
  });

  it('refuses a call to a plugin not in its dependencies with PermissionDenied (-32005), and never reaches it', async () => {
    add(plugin('web', { dependencies: { db: '^1.0.0' } }), plugin('db'), plugin('other'));
    const denied = await router.requestsFrom('web').call('other', 'query', {}).catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(RpcError);
    expect((denied as RpcError).code).toBe(ErrorCodes.PermissionDenied);
    expect((denied as RpcError).code).toBe(-32005);
    expect((denied as RpcError).message).toBe('plugin web may call only the plugins in its dependencies; other is not one of them');
    expect(plugins.get('other')!.calls).toEqual([]);
  });

  it('refuses every call from an invalid plugin (no manifest) or one no longer supervised', async () => {
    plugins.set('broken', new FakePlugin('broken', null));
    add(plugin('db'));
    await expect(router.call('broken', 'db', 'query', {})).rejects.toMatchObject({ code: ErrorCodes.PermissionDenied });
    await expect(router.call('gone', 'db', 'query', {})).rejects.toMatchObject({ code: ErrorCodes.PermissionDenied });
  });

  it('answers UnknownPlugin for a dependency that is not installed', async () => {
    add(plugin('web', { dependencies: { db: '^1.0.0' } }));
    await expect(router.call('web', 'db', 'query', {})).rejects.toMatchObject({ code: ErrorCodes.UnknownPlugin, message: 'unknown plugin: db' });
  });

  it('reads the caller’s manifest at each call: a reload that adds a dependency allows it at once', async () => {
    add(plugin('web'), plugin('db'));
    await expect(router.call('web', 'db', 'query', {})).rejects.toMatchObject({ code: ErrorCodes.PermissionDenied });
    plugins.set('web', plugin('web', { dependencies: { db: '*' } }));
    await expect(router.call('web', 'db', 'query', {})).resolves.toEqual({ from: 'db', method: 'query' });
  });
});

describe('warden.emit and events.publish', () => {
  it('fans an event the caller declares out to every plugin subscribed to it, the emitter included only if it subscribes', async () => {
    add(
      plugin('orders', { emits: ['order.created'] }),
      plugin('mailer', { subscribes: ['order.*'] }),
      plugin('audit', { subscribes: ['order.*', 'deploy.done'] }),
      plugin('billing', { subscribes: ['invoice.*'] }),
    );
    router.requestsFrom('orders').emit('order.created', { id: 7 });
    await bus.idle();
    const event = { topic: 'order.created', data: { id: 7 }, source: 'orders' };
    expect(plugins.get('mailer')!.events).toEqual([event]);
    expect(plugins.get('audit')!.events).toEqual([event]);
    expect(plugins.get('billing')!.events).toEqual([]);
    expect(plugins.get('orders')!.events).toEqual([]);
    expect(warnings).toEqual([]);
    expect(router.eventStats('mailer')).toEqual({ queued: 0, delivered: 1, dropped: 0 });
  });

  it('drops an event whose topic is not in the emitter’s emits, with a warning naming both', async () => {
    add(plugin('orders', { emits: ['order.created'] }), plugin('audit', { subscribes: ['order.*', 'deploy.done'] }));
    router.requestsFrom('orders').emit('order.deleted', { id: 7 });
    await bus.idle();
    expect(plugins.get('audit')!.events).toEqual([]);
    expect(warnings).toEqual([
      [{ plugin: 'orders', topic: 'order.deleted' }, "event order.deleted from orders dropped: it is not in its manifest's emits"],
    ]);
  });

  it('drops events from an invalid plugin (no manifest), with the same warning', () => {
    plugins.set('broken', new FakePlugin('broken', null));
    router.emit('broken', 'order.created', {});
    expect(warnings.map(([, message]) => message)).toEqual(["event order.created from broken dropped: it is not in its manifest's emits"]);
  });

  it('publishes the operator’s event on any topic, saying how many subscribers it was queued for', async () => {
    add(plugin('mailer', { subscribes: ['order.*'] }), plugin('audit', { subscribes: ['order.*', 'deploy.done'] }));
    expect(router.publish('order.created', 1)).toEqual({ delivered: 2 });
    expect(router.publish('deploy.done', 2)).toEqual({ delivered: 1 });
    await bus.idle();
    expect(plugins.get('audit')!.events.map((e) => e.source)).toEqual(['operator', 'operator']);
  });

  it('follows a new manifest’s subscribes, and stops delivering once unsubscribed or subscribed to nothing', async () => {
    add(plugin('mailer', { subscribes: ['order.*'] }), plugin('audit', { subscribes: ['order.*', 'deploy.done'] }));
    const mailer = plugin('mailer', { subscribes: ['invoice.*'] });
    plugins.set('mailer', mailer);
    router.subscribe(mailer);
    router.unsubscribe('audit');
    expect(router.publish('order.created', 1)).toEqual({ delivered: 0 });
    expect(router.publish('invoice.paid', 2)).toEqual({ delivered: 1 });
    await bus.idle();
    expect(mailer.events.map((e) => e.topic)).toEqual(['invoice.paid']);
    router.subscribe(new FakePlugin('mailer', testManifest({ name: 'mailer' })));
    expect(router.publish('invoice.paid', 3)).toEqual({ delivered: 0 });
    expect(router.eventStats('audit')).toEqual({ queued: 0, delivered: 0, dropped: 0 });
  });
});
