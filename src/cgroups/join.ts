/**
 * The launch shell: a tiny `sh` in front of the plugin that joins its cgroup(s) and sets its rlimits,
 * then execs the rest. Node can neither spawn into a cgroup (no CLONE_INTO_CGROUP) nor set an rlimit
 * on a child, so the shell writes its own pid into every cgroup.procs and calls `ulimit`: same pid, and
 * every later fork inherits both. One shell for both keeps the chain at one exec.
 */

/** Resource limits the launch shell sets, each as both its soft and its hard limit. */
export interface ShellRlimits {
  /** RLIMIT_NOFILE. */
  nofile?: number;
  /** RLIMIT_DATA, in KiB (`ulimit -d`). */
  dataKb?: number;
}

// Why: the shell is the only race-free way from Node; paths travel as positional arguments, so the
// shell expands them as quoted variables and never parses them. The first path is $0, the rest $1…;
// after the joins they are shifted away and `exec "$@"` runs the command appended by the caller.
export function joinArgv(paths: readonly string[], sh = '/bin/sh'): string[] {
  if (paths.length === 0) throw new Error('warden: a cgroup join needs at least one cgroup folder');
  const refs = paths.map((_, i) => (i === 0 ? '"$0"' : `"$${i}"`));
  const script = [
    // A join that succeeds forks nothing. One that fails is tried once more in a command substitution,
    // only to capture the error text; $$ there is still the outer shell's pid (POSIX), and ${e##*: }
    // keeps the text's last part ("Permission denied").
    'j() { echo $$ 2>/dev/null > "$1/cgroup.procs" || { e=$( { echo $$ > "$1/cgroup.procs"; } 2>&1 ); echo "warden: cannot join cgroup $1: ${e##*: }" >&2; exit 125; }; }',
    ...refs.map((ref) => `j ${ref}`),
    ...(paths.length > 1 ? [`shift ${paths.length - 1}`] : []),
    'exec "$@"',
  ].join('; ');
  return [sh, '-c', script, ...paths];
}

// Why: `ulimit` without -S or -H sets both limits in dash and bash (dash's `-H -S` sets only the last
// named), so the plugin can never raise its own. Numbers only reach the script, never a path.
function ulimitScript(limits: ShellRlimits): string {
  const set = (flag: string, value: number | undefined, name: string): string[] =>
    value === undefined ? [] : [`ulimit ${flag} ${Math.floor(value)} || { echo "warden: cannot set ${name} to ${Math.floor(value)}" >&2; exit 125; }`];
  return [...set('-n', limits.nofile, 'RLIMIT_NOFILE'), ...set('-d', limits.dataKb, 'RLIMIT_DATA')].join('; ');
}

// Why: adds the rlimits to a join argv made by joinArgv (its script comes first, its paths stay
// positional), or makes a shell of its own when there is no cgroup to join; null when there is nothing to do.
export function launchShellArgv(join: readonly string[] | null, limits: ShellRlimits, sh = '/bin/sh'): string[] | null {
  const ulimits = ulimitScript(limits);
  if (join === null) return ulimits ? [sh, '-c', `${ulimits}; exec "$@"`, 'warden-launch'] : null;
  if (!ulimits) return [...join];
  const [shell, dashC, script, ...paths] = join;
  if (dashC !== '-c' || script === undefined) throw new Error('warden: launchShellArgv takes the argv of joinArgv');
  return [shell!, '-c', `${ulimits}; ${script}`, ...paths];
}
