// Input rules shared by the CLI's early validation and the server (kept free of zod so the CLI can
// check them without loading it).
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
export const PASSWORD_RULE = `between ${PASSWORD_MIN} and ${PASSWORD_MAX} characters`;

export function passwordProblem(pw: string): string | undefined {
  if (pw.length < PASSWORD_MIN || pw.length > PASSWORD_MAX) return `the password must be ${PASSWORD_RULE}`;
  return undefined;
}

export const USER_STATUS_LABEL: Record<number, string> = { 1: 'enabled', 0: 'disabled', [-1]: 'unverified' };

/** The seven assignment types of `POST /api/devices/{guid}/assign` (devices.py --assign_to). */
/** The most parts the comma-packed `ab` assignment value has: BOOK, TAG, ALIAS, PASSWORD, NOTE. */
export const BOOK_ENTRY_PARTS = 5;

export const ASSIGN_TYPES = [
  'ab',
  'strategy_name',
  'user_name',
  'device_group_name',
  'note',
  'device_username',
  'device_name',
] as const;
export type AssignType = (typeof ASSIGN_TYPES)[number];
