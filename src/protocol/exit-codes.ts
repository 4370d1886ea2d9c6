/** The exit codes of `warden` and `warden daemon` (docs/control-api.md, "Exit codes"; docs/configuration.md for 78). */
export const ExitCode = {
  Ok: 0,
  /** The daemon answered with an error (or refused a reload). */
  DaemonError: 1,
  /** Unknown command or option, missing argument, bad value. */
  Usage: 2,
  /**
   * sysexits EX_UNAVAILABLE: the CLI cannot reach the daemon, or `warden daemon` cannot own its control
   * socket (another daemon holds it, or it cannot be created). The one place 69 is written.
   */
  Unreachable: 69,
  /** A bug in the CLI itself (sysexits EX_SOFTWARE). */
  Internal: 70,
  /** sysexits EX_CONFIG: `warden daemon` cannot run with this configuration (systemd does not restart it). */
  Config: 78,
} as const;
