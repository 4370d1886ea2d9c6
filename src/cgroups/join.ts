/**
 * The launch prefix that puts a plugin into its cgroup(s) before it runs. Node cannot spawn into a
 * cgroup (no CLONE_INTO_CGROUP), so a tiny shell writes its own pid into every cgroup.procs and then
 * execs the plugin: same pid, and every later fork inherits the cgroups.
 */

// Why: the shell is the only race-free way from Node; paths travel as positional arguments, so the
// shell expands them as quoted variables and never parses them. The first path is $0, the rest $1…;
// after the joins they are shifted away and `exec "$@"` runs the command appended by the caller.
export function joinArgv(paths: readonly string[], sh = '/bin/sh'): string[] {
  if (paths.length === 0) throw new Error('warden: a cgroup join needs at least one cgroup folder');
  const refs = paths.map((_, i) => (i === 0 ? '"$0"' : `"$${i}"`));
  const script = [
    // $$ in a command substitution is still the outer shell's pid (POSIX), so the shell itself moves;
    // the substitution only captures the error text, and ${e##*: } keeps its last part ("Permission denied").
    'j() { e=$( { echo $$ > "$1/cgroup.procs"; } 2>&1 ) || { echo "warden: cannot join cgroup $1: ${e##*: }" >&2; exit 125; }; }',
    ...refs.map((ref) => `j ${ref}`),
    ...(paths.length > 1 ? [`shift ${paths.length - 1}`] : []),
    'exec "$@"',
  ].join('; ');
  return [sh, '-c', script, ...paths];
}
