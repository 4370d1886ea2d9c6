/** The approval as a plugin definition reports it (PluginDefinition.approval()). */
export type StartApproval = { approved: true } | { approved: false; waiting: string };

/** What the host offers for the wall: a problem is null when that part is there. */
export interface WallFacts {
  /** `sandbox.require`: a plugin that cannot be put behind the whole wall does not start. */
  required: boolean;
  wallProblem: string | null;
  hasWall: boolean;
  cgroupProblem: string | null;
  hasCgroup: boolean;
}

/**
 * What keeps a start from happening that only the operator can lift (the reason of a `waiting`
 * plugin), or null: an unapproved permission first, then a wall required but missing.
 */
export function startBlockedBy(approval: StartApproval, wall: WallFacts): string | null {
  if (!approval.approved) return approval.waiting;
  if (wall.required && !wall.hasWall) {
    return `waiting for the wall: sandbox.require is true and this host cannot build it (${wall.wallProblem})`;
  }
  if (wall.required && !wall.hasCgroup) {
    return `waiting for the wall: sandbox.require is true and this host gives no cgroup for kernel limits (${wall.cgroupProblem})`;
  }
  return null;
}
