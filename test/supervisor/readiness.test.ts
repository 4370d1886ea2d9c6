import { describe, expect, it } from 'vitest';
import { checkDependencies } from '../../src/graph/index.js';
import type { Manifest } from '../../src/manifest/types.js';
import { nodeOf } from '../../src/supervisor/graph-node.js';
import { DependencyReadiness, type ReadinessSubject } from '../../src/supervisor/readiness.js';
import { testManifest } from '../helpers/manifest.js';

/** A supervised plugin as readiness sees it: a manifest (null: invalid) and a state. */
interface Subject extends ReadinessSubject {
  manifest: Manifest | null;
  state: string;
}

class World {
  readonly plugins = new Map<string, Subject>();
  readonly readiness = new DependencyReadiness((name) => this.plugins.get(name));

  add(name: string, dependencies: Record<string, string> = {}, version = '1.0.0', state = 'stopped'): Subject {
    const subject: Subject = { name, manifest: testManifest({ name, version, dependencies }), state };
    this.plugins.set(name, subject);
    this.readiness.refresh(name);
    return subject;
  }

  /** What the supervisor did before: the facts of every plugin, rebuilt for one check. */
  fresh(name: string) {
    const plugin = this.plugins.get(name);
    if (!plugin) return { ok: true };
    const facts = new Map([...this.plugins.values()].map((p) => [p.name, { version: p.manifest?.version ?? null, state: p.state }]));
    return checkDependencies(nodeOf(plugin), facts);
  }
}

describe('DependencyReadiness', () => {
  it('follows the states of dependencies, with the graph’s own reasons', () => {
    const world = new World();
    world.add('web', { db: '^1.0.0', cache: '^2.0.0' });
    expect(world.readiness.of('web')).toEqual({ ok: false, reason: 'waiting for cache: not installed (and 1 more)' });
    const db = world.add('db');
    world.add('cache', {}, '2.1.0', 'running');
    expect(world.readiness.of('web')).toEqual({ ok: false, reason: 'waiting for db: it is stopped' });
    db.state = 'running';
    world.readiness.refresh('db');
    expect(world.readiness.of('web')).toEqual({ ok: true });
    db.state = 'stopping';
    world.readiness.refresh('db');
    expect(world.readiness.of('web')).toEqual({ ok: false, reason: 'waiting for db: it is stopping' });
  });

  it('follows versions and new definitions of the dependency and of the dependent', () => {
    const world = new World();
    const web = world.add('web', { db: '^1.0.0' });
    const db = world.add('db', {}, '2.0.0', 'running');
    expect(world.readiness.of('web')).toEqual({ ok: false, reason: 'waiting for db ^1.0.0: installed version 2.0.0 is outside the range' });
    web.manifest = testManifest({ name: 'web', dependencies: { db: '^2.0.0' } });
    world.readiness.refresh('web');
    expect(world.readiness.of('web')).toEqual({ ok: true });
    db.manifest = null; // invalid now
    world.readiness.refresh('db');
    expect(world.readiness.of('web')).toEqual({ ok: false, reason: 'waiting for db: it is invalid' });
    web.manifest = testManifest({ name: 'web' }); // no longer depends on it
    world.readiness.refresh('web');
    expect(world.readiness.of('web')).toEqual({ ok: true });
    db.manifest = testManifest({ name: 'db', version: '9.9.9' });
    world.readiness.refresh('db');
    expect(world.readiness.of('web')).toEqual({ ok: true });
  });

  it('finds a removed dependency not installed, and answers ready for a plugin it does not know', () => {
    const world = new World();
    world.add('web', { db: '*' });
    world.add('db', {}, '1.0.0', 'running');
    expect(world.readiness.of('web')).toEqual({ ok: true });
    world.plugins.delete('db');
    world.readiness.forget('db');
    expect(world.readiness.of('web')).toEqual({ ok: false, reason: 'waiting for db: not installed' });
    expect(world.readiness.of('nobody')).toEqual({ ok: true });
    // A refresh for a plugin already gone counts as its removal.
    world.plugins.delete('web');
    world.readiness.refresh('web');
    expect(world.readiness.of('web')).toEqual({ ok: true });
  });

  it('always agrees with a check over every plugin’s facts, whatever changes', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const states = ['stopped', 'starting', 'running', 'stopping', 'waiting', 'backoff', 'disabled', 'invalid'];
    const ranges = ['^1.0.0', '^2.0.0', '*', '>=1.5.0'];
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const world = new World();
    for (let step = 0; step < 2000; step++) {
      const name = names[random(names.length)]!;
      const existing = world.plugins.get(name);
      const roll = random(10);
      if (!existing || roll === 0) {
        const dependencies: Record<string, string> = {};
        for (const other of names) if (random(3) === 0) dependencies[other] = ranges[random(ranges.length)]!;
        world.add(name, dependencies, `${1 + random(2)}.${random(10)}.0`, states[random(states.length)]!);
      } else if (roll === 1) {
        world.plugins.delete(name);
        world.readiness.forget(name);
      } else if (roll === 2) {
        const dependencies = existing.manifest?.dependencies ?? {};
        existing.manifest = random(4) === 0 ? null : testManifest({ name, version: `${1 + random(2)}.0.0`, dependencies });
        world.readiness.refresh(name);
      } else {
        existing.state = states[random(states.length)]!;
        world.readiness.refresh(name);
      }
      for (const n of names) expect(world.readiness.of(n), `step ${step}, ${n}`).toEqual(world.fresh(n));
    }
  });
});
