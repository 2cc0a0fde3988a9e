import { setImmediate as nextTurn } from 'node:timers/promises';

/** Rows a chunk of a maintenance pass deletes at most (a few ms of work, see Pace). */
export const CHUNK_ROWS = 1000;

/** One chunk's work: the rows it deleted, and whether more may be left. */
export interface Chunk {
  n: number;
  more: boolean;
}

/**
 * The pace of a maintenance pass that deletes many rows (retention): in chunks of at most `size`
 * rows, each a transaction of its own, with a turn of the event loop after each full one, so that
 * requests are answered, timers and signals run, and what was deleted stays deleted whenever the
 * process stops. `signal` stops the pass at such a turn: after a chunk, never before the first of
 * a pass, so a pass with little to do (a chunk per table) does it all, as it did before `signal`.
 * Once stopped, the pass's later steps run no chunk either.
 */
export class Pace {
  /** The pass was stopped by its signal; what it had not reached is left for the next. */
  stopped = false;

  constructor(
    private readonly signal?: AbortSignal,
    readonly size = CHUNK_ROWS,
  ) {}

  /** Runs `chunk` until it says nothing is left or the pass is stopped; the rows it deleted. */
  async run(chunk: (size: number) => Promise<Chunk>): Promise<number> {
    let total = 0;
    while (!this.stopped) {
      const { n, more } = await chunk(this.size);
      total += n;
      if (!more) break;
      await nextTurn();
      if (this.signal?.aborted) this.stopped = true;
    }
    return total;
  }
}
