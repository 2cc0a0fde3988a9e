import type { StopSignal } from './errors';

// SIGINT (Ctrl-C) and SIGTERM (a CI job cancelled, `kill`). Left to Node's default, either ends the
// process on the spot: a bulk run's report is lost (stdout cut at a block boundary, a JSON array
// never closed, no summary) and a progress bar leaves the cursor hidden. main() turns the first
// one into an Interruption that the running command hears (through IO): it starts no new request,
// waits a little for the answers already under way, reports what it did and exits 130 (SIGINT) or
// 143 (SIGTERM). A second signal stops the process at once (main()).

/** How long the requests already sent when the signal came may take to answer (changes; reads are dropped at once). */
export const GRACE_MS = 5_000;

export class Interruption {
  /** The first signal, once one came. */
  signal?: StopSignal;
  /** See GRACE_MS (tests shorten it). */
  readonly graceMs: number;
  /** Settles on the first signal (for a wait that a signal should cut short). */
  readonly fired: Promise<StopSignal>;
  private readonly listeners = new Set<(signal: StopSignal) => void>();

  constructor(o: { graceMs?: number } = {}) {
    this.graceMs = o.graceMs ?? GRACE_MS;
    this.fired = new Promise((resolve) => this.listeners.add(resolve));
  }

  /** The first signal: every listener hears it, once. Later calls do nothing (main() handles a second signal). */
  fire(signal: StopSignal): void {
    if (this.signal) return;
    this.signal = signal;
    for (const fn of [...this.listeners]) fn(signal);
    this.listeners.clear();
  }

  /** Set by main(): stops hearing the signals (see release()). */
  releaseWith?: () => void;

  /**
   * For a command that takes the signals itself (`serve`): from now on SIGINT and SIGTERM are its
   * own, and neither this interruption nor main()'s stop at once and safety net apply.
   */
  release(): void {
    this.releaseWith?.();
    this.releaseWith = undefined;
  }

  /** Calls `fn` on the first signal (now, if it came already); returns what stops listening. */
  on(fn: (signal: StopSignal) => void): () => void {
    if (this.signal) {
      fn(this.signal);
      return () => undefined;
    }
    this.listeners.add(fn);
    return () => void this.listeners.delete(fn);
  }
}
