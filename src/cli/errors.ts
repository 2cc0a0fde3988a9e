/** Documented exit codes (README "Exit codes"). */
export const Exit = {
  ok: 0,
  failed: 1,
  usage: 2,
  notConfirmed: 3,
  auth: 4,
  network: 5,
  /** Stopped by SIGINT (Ctrl-C): 128 + 2, as a shell reports a process a signal ended. */
  interrupted: 130,
  /** Stopped by SIGTERM (a CI job cancelled, `kill`): 128 + 15. */
  terminated: 143,
} as const;

/** The signals on which a command stops early, reports what it did, and exits with its own code. */
export type StopSignal = 'SIGINT' | 'SIGTERM';
export const SIGNAL_EXIT: Record<StopSignal, number> = { SIGINT: Exit.interrupted, SIGTERM: Exit.terminated };

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
 * The server's own `{"error": …}` on a 2xx status, as Pro answers most refusals (an HTTP 200): the
 * server refused the request. (Not an unusable body: that is a plain ApiError.)
 */
export class ErrorAnswer extends ApiError {}

/**
 * An answer that did not come from the server as it answers: an error page that something between
 * rdadmin and the server (a proxy, a gateway, a CDN) gave in the server's place (502, 504, 520–524,
 * any 5xx without the server's JSON `{"error"}`), or an answer it compressed unasked. The request
 * may or may not have been carried out: a change is reported NOT CONFIRMED, never FAILED.
 */
export class GatewayError extends ApiError {}

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

/**
 * A 404 for an endpoint only rdadmin serve has, from a server that is not rdadmin serve (Pro keeps
 * those actions to its web console): every further request to it would fail the same way.
 */
export class MissingEndpointError extends ApiError {
  constructor(message: string, hint?: string) {
    super(message, 404, hint);
  }
}

/**
 * Not authenticated, or refused for want of permission. `status` is the answer's HTTP status: 401
 * (not authenticated), 403 (permission refused), or 200 where a server answers a refusal with a
 * 200 `{"error"}`, as Pro does (`Permission denied`; a failed login).
 */
export class AuthError extends CliError {
  constructor(
    message: string,
    readonly status: 401 | 403 | 200,
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

/** No record has the name looked up (not an ambiguous one): what --if-exists forgives as "gone". */
export class NotFoundError extends LookupError {}

/** A target of a bulk run that fails without a request (known to be refused: not there). */
export class NotSentError extends LookupError {}

/** A bulk run in which some targets failed: the per-target results are already printed. */
export class PartialFailure extends CliError {
  constructor(message: string, hint?: string) {
    super(message, Exit.failed, hint);
  }
}

/** The command was stopped by a signal (see interrupt.ts): its exit code is the signal's. */
export class InterruptedError extends CliError {
  constructor(
    readonly signal: StopSignal,
    message = `interrupted by ${signal}`,
    hint?: string,
  ) {
    super(message, SIGNAL_EXIT[signal], hint);
  }
}

/**
 * One request a signal cut short (Transport.interrupt): refused because it would have started
 * after the signal (it never reached the server), a read dropped under way, or a change abandoned
 * without an answer (`unknown`: it may or may not have been carried out).
 */
export class RequestInterruptedError extends InterruptedError {
  constructor(
    signal: StopSignal,
    message: string,
    readonly unknown = false,
  ) {
    super(signal, message);
  }
}
