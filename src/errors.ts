/**
 * Exit codes of docker-netdoctor. Documented in the README and in --help;
 * keep the three in step.
 */
export const ExitCode = {
  /** Success: nothing failed. */
  Ok: 0,
  /** Checks ran and at least one failed. */
  Findings: 1,
  /** Usage or input error: bad flags, malformed config, unknown context, bad bundle. */
  Usage: 2,
  /** Could not reach what it needs: no daemon, not a swarm manager, nodes unreachable. */
  Unreachable: 3,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * An error the user should see as one line, with a documented exit code.
 * Anything thrown that is not a NetdoctorError is a bug and is still shown as
 * one line (with the stack only under --debug).
 */
export class NetdoctorError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'NetdoctorError';
  }
}

export const usageError = (message: string, cause?: unknown): NetdoctorError => new NetdoctorError(message, ExitCode.Usage, { cause });

export const unreachableError = (message: string, cause?: unknown): NetdoctorError => new NetdoctorError(message, ExitCode.Unreachable, { cause });
