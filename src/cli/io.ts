import type { Interruption } from './interrupt';

/** The process surface a command may touch, injected so tests can fake a terminal. */
export interface Writable {
  /** false: the stream holds more than it likes (a pipe read slowly); 'drain' comes when it does not. */
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
  destroyed?: boolean;
  on?(event: 'error', fn: (err: NodeJS.ErrnoException) => void): unknown;
  once?(event: 'drain' | 'close' | 'error', fn: () => void): unknown;
  removeListener?(event: 'drain' | 'close' | 'error', fn: () => void): unknown;
}

export interface IO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
  /** The signals the process gets (SIGINT, SIGTERM; main() wires them); none when absent. */
  interrupt?: Interruption;
}
