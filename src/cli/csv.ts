// CSV for export (RFC 4180: comma separated, CRLF line ends, fields quoted when needed).

/**
 * One field. Text that a spreadsheet would run as a formula (`=`, `+`, `@`, or `-` not followed
 * by a plain number) gets a leading apostrophe: audit fields such as peer names come from remote
 * clients and must not execute in the administrator's spreadsheet.
 */
export function csvField(value: string): string {
  let v = value;
  if (/^[=+@\t\r]/.test(v) || (/^-/.test(v) && !/^-\d+(\.\d+)?$/.test(v))) v = `'${v}`;
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function csvLine(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}
