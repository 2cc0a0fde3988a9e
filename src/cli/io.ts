/** The process surface a command may touch, injected so tests can fake a terminal. */
export interface Writable {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
  on?(event: 'error', fn: (err: NodeJS.ErrnoException) => void): unknown;
}

export interface IO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
  env: Record<string, string | undefined>;
}
