/** Documented exit codes (README "Exit codes"). */
export const Exit = {
  ok: 0,
  failed: 1,
  usage: 2,
  notConfirmed: 3,
  auth: 4,
  network: 5,
} as const;

/** An error meant for a person: printed without a stack (unless --debug), with an optional hint. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, Exit.usage, hint);
  }
}

export class NotConfirmedError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, Exit.notConfirmed, hint);
  }
}

/** The server answered with an error (non-2xx, or `{"error"}` on 2xx), or an unusable body. */
export class ApiError extends CliError {
  constructor(
    message: string,
    readonly status: number,
    hint?: string,
  ) {
    super(message, Exit.failed, hint);
  }
}

/**
 * HTTP 429: the server (or a proxy in front of it) refused the request for now, without carrying it
 * out. `retryAfterMs`: how long its Retry-After asked to wait, when it said.
 */
export class RateLimitedError extends ApiError {
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
    hint?: string,
  ) {
    super(message, 429, hint);
  }
}

export class AuthError extends CliError {
  constructor(
    message: string,
    readonly status: 401 | 403,
    hint?: string,
  ) {
    super(message, Exit.auth, hint);
  }
}

export class NetworkError extends CliError {
  constructor(
    message: string,
    readonly code?: string,
    hint?: string,
  ) {
    super(message, Exit.network, hint);
  }
}

export class TimeoutError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, Exit.network, hint);
  }
}

/** A name that resolves to nothing, or to several records. */
export class LookupError extends CliError {
  constructor(message: string, hint?: string) {
    super(message, Exit.failed, hint);
  }
}

/** A bulk run in which some targets failed: the per-target results are already printed. */
export class PartialFailure extends CliError {
  constructor(message: string, hint?: string) {
    super(message, Exit.failed, hint);
  }
}
