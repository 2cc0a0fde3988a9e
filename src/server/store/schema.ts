import type { Generated } from 'kysely';

// Row types of the SQLite schema (see migrations.ts). Times are ISO 8601 UTC strings.

export interface UserGroupTable {
  guid: string;
  name: string;
  name_fold: string;
  note: string;
  created_at: string;
  updated_at: string;
}

export interface UserTable {
  guid: string;
  name: string;
  name_fold: string;
  display_name: string;
  email: string;
  note: string;
  status: number;
  is_admin: number;
  group_guid: string;
  password_hash: string | null;
  email_verification: number;
  tfa_enforced: number;
  tfa_enforce_url: string;
  totp_secret: string | null;
  created_at: string;
  updated_at: string;
}

export interface SessionTable {
  token_hash: string;
  user_guid: string;
  device_id: string | null;
  device_uuid: string | null;
  created_at: string;
  last_used_at: string;
}

export interface ApiTokenTable {
  guid: string;
  name: string;
  token_hash: string;
  owner_guid: string;
  permissions: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface InvitationTable {
  token_hash: string;
  user_guid: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface AuditConsoleTable {
  id: Generated<number>;
  guid: string;
  typ: number;
  iop: number;
  operator_guid: string | null;
  operator: string;
  ip: string;
  detail: string;
  created_at: string;
}

export interface SettingTable {
  key: string;
  value: string;
}

export interface DB {
  user_groups: UserGroupTable;
  users: UserTable;
  sessions: SessionTable;
  api_tokens: ApiTokenTable;
  invitations: InvitationTable;
  audit_console: AuditConsoleTable;
  settings: SettingTable;
}
