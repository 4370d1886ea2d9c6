/**
 * The plugin cgroups a driver made and has not removed yet, by folder name, so the sampler can find a
 * plugin's counters from its pid alone.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { CgroupCounters } from './counters.js';
import { type CgroupLine, parseSelfCgroup } from './fs.js';
import type { PluginCgroup } from './types.js';

export class LiveCgroups {
  private readonly byLeaf = new Map<string, PluginCgroup>();

  // Why: create() registers what it returns in one expression.
  add<T extends PluginCgroup>(leaf: string, cgroup: T): T {
    this.byLeaf.set(leaf, cgroup);
    return cgroup;
  }

  // Why: a removed cgroup must not be found again by a reused pid.
  remove(leaf: string): void {
    this.byLeaf.delete(leaf);
  }

  // Why: /proc/<pid>/cgroup is read once per watch; the line `pick` chooses ends in the instance folder.
  countersOf(pid: number, pick: (line: CgroupLine) => boolean): CgroupCounters | null {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      return null;
    }
    const line = parseSelfCgroup(text).find(pick);
    return line ? (this.byLeaf.get(basename(line.path))?.counters() ?? null) : null;
  }
}
