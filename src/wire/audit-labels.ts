// Labels of the audit codes. Zod-free: `rdadmin audits` loads it at start.
// The first four tables are audits.py's, word for word (pro-admin-api.md §8.3); alarm types 6–10
// and the auth/direction tables come from the RustDesk client (server-model.md §1.8), which
// audits.py does not know (it shows them as `Unknown (<n>)`).

export const CONN_TYPE_LABEL: Record<number, string> = {
  0: 'Remote Desktop',
  1: 'File Transfer',
  2: 'Port Transfer',
  3: 'View Camera',
  4: 'Terminal',
};
/** What audits.py shows for a connection that never got past authentication (no `conn_type`). */
export const NOT_LOGGED_IN = 'Not Logged In';

export const CONSOLE_TYPE_LABEL: Record<number, string> = {
  0: 'Group Management',
  1: 'User Management',
  2: 'Device Management',
  3: 'Address Book Management',
};

export const CONSOLE_OP_LABEL: Record<number, string> = {
  0: 'User Login',
  1: 'Add Group',
  2: 'Add User',
  3: 'Add Device',
  4: 'Delete Groups',
  5: 'Disconnect Device',
  6: 'Enable Users',
  7: 'Disable Users',
  8: 'Enable Devices',
  9: 'Disable Devices',
  10: 'Update Group',
  11: 'Update User',
  12: 'Update Device',
  13: 'Delete User',
  14: 'Delete Device',
  15: 'Add Address Book',
  16: 'Delete Address Book',
  17: 'Change Address Book Name',
  18: 'Delete Devices in the Address Book Recycle Bin',
  19: 'Empty Address Book Recycle Bin',
  20: 'Add Address Book Permission',
  21: 'Delete Address Book Permission',
  22: 'Update Address Book Permission',
};

export const ALARM_TYPE_LABEL: Record<number, string> = {
  0: 'Access attempt outside the IP whitelist',
  1: 'Over 30 consecutive access attempts',
  2: 'Multiple access attempts within one minute',
  3: 'Over 30 consecutive login attempts',
  4: 'Multiple login attempts within one minute',
  5: 'Multiple login attempts within one hour',
  6: 'Too many access attempts from one IPv6 prefix',
  7: 'Terminal OS login back-off',
  8: 'Too many concurrent terminal OS logins',
  9: 'Session scope violation',
  10: 'Access attempt outside the ID whitelist',
};

/** Server-side login alarms (pro-admin-api.md §8.3). */
export const LoginAlarm = { consecutive: 3, perMinute: 4, perHour: 5 } as const;

export const PRIMARY_AUTH_LABEL: Record<number, string> = {
  1: 'click to accept',
  2: 'one-time password',
  3: 'permanent password',
  4: 'switch sides',
};

export const TWO_FACTOR_LABEL: Record<number, string> = { 1: 'TOTP code', 2: 'trusted device' };

/** File audit `type`: 0 the controlled device sent files (RemoteSend), 1 it received them. */
export const FILE_DIRECTION_LABEL: Record<number, string> = { 0: 'device → peer', 1: 'peer → device' };

/** `Unknown (<n>)` for codes outside the table, as audits.py prints them. */
export function label(table: Record<number, string>, code: number | null | undefined): string {
  if (code === null || code === undefined) return '';
  return table[code] ?? `Unknown (${code})`;
}

/**
 * Reads a code given on the command line: a number, or a label of the table (case-insensitive,
 * e.g. 'disable users'). Returns undefined when it is neither.
 */
export function codeOf(table: Record<number, string>, text: string): number | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const want = t.toLowerCase();
  for (const [code, name] of Object.entries(table)) if (name.toLowerCase() === want) return Number(code);
  return undefined;
}
