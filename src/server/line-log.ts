// The request log of `rdadmin serve`. stderr on a file or a pipe is written synchronously, one
// system call per write; at thousands of requests a second that was a tenth of the server's time.
// Lines are collected and written together once per turn of the event loop instead: still in
// order, at most one turn late, and whatever is pending is written before the process exits.

export interface LineLog {
  (line: string): void;
  /** Writes what is pending now. */
  flush(): void;
}

export function lineLog(out: { write(text: string): unknown }, stamp: () => string = () => ''): LineLog {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    const text = pending;
    pending = '';
    out.write(text);
  };
  const log = ((line: string) => {
    pending += `${stamp()}${line}\n`;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  }) as LineLog;
  log.flush = flush;
  process.once('exit', flush);
  return log;
}
