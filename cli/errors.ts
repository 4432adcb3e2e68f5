// Exit codes scripts can rely on, and the error that carries one to the top.
export const EXIT = {
  ok: 0,
  /** Bad command line: unknown command or option, missing or malformed argument. */
  usage: 1,
  /** The api refused the request (4xx other than 401/403): bad input, not found, conflict. */
  refused: 2,
  /** The api failed (5xx) or could not be reached. */
  unavailable: 3,
  /** No token configured, an unsafe config file, or the api answered 401/403. */
  auth: 4,
  /** --wait: the run ended in a failed, rejected, expired or rolled-back state. */
  runFailed: 5,
} as const;

export class CliError extends Error {
  constructor(readonly exitCode: number, message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(EXIT.usage, message);
