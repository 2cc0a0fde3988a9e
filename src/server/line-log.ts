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

/** C0 controls, DEL, C1 controls, and the Unicode line and paragraph separators. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Text taken from a request, made fit for one log line: control characters are percent-encoded
 * (`\n` → `%0A`), so a request can never end its line and write one of its own (log forging), nor
 * send escape sequences to the terminal that shows the log.
 */
export function logSafe(text: string): string {
  return text.replace(CONTROL, encodeURIComponent);
}

/** "invitations" with any of its letters percent-encoded (once or more) and in any case. */
const INVITATIONS = [...'invitations']
  .map((ch) => {
    const hex = (c: string) => c.charCodeAt(0).toString(16);
    return `(?:${ch}|%(?:25)*(?:${hex(ch)}|${hex(ch.toUpperCase())}))`;
  })
  .join('');

/** Whatever follows "invitations" may be an invitation secret: `/api/invitations/***`. */
const SECRET_PATH = new RegExp(`(${INVITATIONS})(/?).+$`, 'is');

/**
 * A request path as the log shows it: control characters percent-encoded, and anything after
 * "invitations" hidden in every spelling a client may send (`//api/…`, `/API/Invitations/…`,
 * `/api/invitations%2F…`, `;…`), not only the route that answers: a mistyped link still carries
 * its secret.
 */
export function loggedPath(path: string): string {
  return logSafe(path).replace(SECRET_PATH, '$1$2***');
}

/**
 * An error for the log: its message made safe (it may quote the request), its stack frames kept
 * on the lines below (they come from the code, not the request).
 */
export function loggedError(err: unknown): string {
  if (!(err instanceof Error)) return logSafe(String(err));
  const head = `${err.name}: ${err.message}`;
  const stack = err.stack ?? head;
  return stack.startsWith(head) ? logSafe(head) + stack.slice(head.length) : logSafe(stack);
}
