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
  strategy_guid: Generated<string | null>;
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

export interface DeviceGroupTable {
  guid: string;
  name: string;
  name_fold: string;
  note: string;
  strategy_guid: Generated<string | null>;
  created_at: string;
  updated_at: string;
}

export interface DeviceTable {
  guid: string;
  /** The RustDesk ID. */
  id: string;
  id_fold: string;
  uuid: Generated<string>;
  pk: string | null;
  device_name: Generated<string>;
  device_name_fold: string;
  device_username: Generated<string>;
  device_username_fold: string;
  os: Generated<string>;
  cpu: Generated<string>;
  memory: Generated<string>;
  version: Generated<string>;
  ip: Generated<string>;
  note: Generated<string>;
  /** 1 enabled, 0 disabled. */
  status: Generated<number>;
  user_guid: string | null;
  device_group_guid: string | null;
  strategy_guid: string | null;
  /** ISO 8601 UTC of the last heartbeat or sysinfo; null if never seen online. */
  last_online: string | null;
  sysinfo_at: string | null;
  /** JSON array of active connection ids from the last heartbeat. */
  conns: Generated<string>;
  /** JSON array of the client option keys strategies have sent this device (grown, never shrunk). */
  strategy_keys: Generated<string>;
  /** 1: device_name was set by an administrator and system info does not replace it (0017). */
  device_name_set: Generated<number>;
  /** 1: device_username likewise. */
  device_username_set: Generated<number>;
  created_at: string;
  updated_at: string;
}

export interface DeploymentTable {
  id: string;
  uuid: string;
  pk: string;
  created_at: string;
}

export interface PendingDisconnectTable {
  device_guid: string;
  conn_id: number;
  created_at: string;
}

export interface StrategyTable {
  guid: string;
  name: string;
  name_fold: string;
  enabled: number;
  /** JSON object: client option key → string value. */
  options: string;
  /** Bumped on every change of content or status (drives the heartbeat handshake). */
  revision: number;
  created_at: string;
  updated_at: string;
}

export interface AddressBookTable {
  guid: string;
  name: string;
  name_fold: string;
  note: string;
  /** The owner (shared books: may become NULL when the owner is deleted). */
  owner_guid: string | null;
  /** Set on a user's personal book only (one per user). */
  personal_of: string | null;
  /** The book-level shared password, sealed (secret-box.ts). */
  password_enc: string | null;
  created_at: string;
  updated_at: string;
}

export interface AbPeerTable {
  ab_guid: string;
  id: string;
  id_fold: string;
  alias: string;
  alias_fold: string;
  /** JSON array of tag names. */
  tags: string;
  note: string;
  /** Shared books: the peer's password, sealed. */
  password_enc: string | null;
  /** Personal books: the client's password hash, sealed. */
  hash_enc: string | null;
  username: string;
  hostname: string;
  platform: string;
  created_at: string;
  updated_at: string;
}

export interface AbTagTable {
  ab_guid: string;
  name: string;
  /** 32-bit ARGB. */
  color: number;
  created_at: string;
}

export interface AbRuleTable {
  guid: string;
  ab_guid: string;
  /** A user rule; NULL with group_guid NULL means everyone. */
  user_guid: string | null;
  group_guid: string | null;
  /** 1 read, 2 read/write, 3 full control. */
  rule: number;
  created_at: string;
  updated_at: string;
}

export interface DB {
  strategies: StrategyTable;
  device_groups: DeviceGroupTable;
  devices: DeviceTable;
  deployments: DeploymentTable;
  pending_disconnects: PendingDisconnectTable;
  user_groups: UserGroupTable;
  users: UserTable;
  sessions: SessionTable;
  api_tokens: ApiTokenTable;
  invitations: InvitationTable;
  audit_console: AuditConsoleTable;
  settings: SettingTable;
  address_books: AddressBookTable;
  ab_peers: AbPeerTable;
  ab_tags: AbTagTable;
  ab_rules: AbRuleTable;
  access_rules: AccessRuleTable;
}

/** One access-rule edge: the source (user group or user) may access the target (user group or device group). */
export interface AccessRuleTable {
  /** 0 user group, 2 user. */
  src_type: number;
  src_user_group: string | null;
  src_user: string | null;
  /** 0 user group, 1 device group. */
  dst_type: number;
  dst_user_group: string | null;
  dst_device_group: string | null;
  created_at: string;
}

// Audit logs (migration 0005).

export interface AuditConnTable {
  id: Generated<number>;
  guid: string;
  /** The controlled device (the one that posts). */
  device_id: string;
  device_id_fold: string;
  device_uuid: Generated<string>;
  conn_id: number;
  /** Unsigned 64-bit, as decimal text. */
  session_id: string | null;
  ip: Generated<string>;
  /** The controlling side. */
  peer_id: Generated<string>;
  peer_id_fold: Generated<string>;
  peer_name: Generated<string>;
  /** Null until the connection is authorised ("Not Logged In"). */
  conn_type: number | null;
  primary_auth: number | null;
  two_factor: number | null;
  conn_audit_ref: string | null;
  note: Generated<string>;
  created_at: string;
  end_time: string | null;
}

export interface AuditFileTable {
  id: Generated<number>;
  guid: string;
  device_id: string;
  device_id_fold: string;
  device_uuid: Generated<string>;
  peer_id: Generated<string>;
  peer_id_fold: Generated<string>;
  peer_name: Generated<string>;
  conn_id: number | null;
  /** 0 the device sent files, 1 it received them. */
  type: number;
  path: Generated<string>;
  is_file: Generated<number>;
  num: number | null;
  ip: Generated<string>;
  /** The `info` JSON text as posted. */
  info: Generated<string>;
  created_at: string;
}

export interface AuditAlarmTable {
  id: Generated<number>;
  guid: string;
  device_id: Generated<string>;
  device_id_fold: Generated<string>;
  device_uuid: Generated<string>;
  typ: number;
  ip: Generated<string>;
  info: Generated<string>;
  conn_id: number | null;
  conn_audit_ref: string | null;
  created_at: string;
}

export interface AuditNonceTable {
  kind: string;
  nonce: string;
  created_at: string;
}

// Declaration merging: these join the DB and AuditConsoleTable interfaces above.
export interface DB {
  audit_conn: AuditConnTable;
  audit_file: AuditFileTable;
  audit_alarm: AuditAlarmTable;
  audit_nonces: AuditNonceTable;
}

export interface AuditConsoleTable {
  operator_fold: Generated<string>;
}

/** The failed-login counters of one key (`user:<folded name>` or `ip:<address>`). */
export interface LoginThrottleTable {
  key: string;
  /** JSON array of failure times (ms since the epoch), oldest first, none older than an hour. */
  failures: string;
  /** Failures since the last success. */
  consecutive: number;
  /** ms since the epoch. */
  updated_at: number;
}

/** A peer in its book's recycle bin: the peer's columns, and when it was deleted. */
export interface AbRecycleTable extends AbPeerTable {
  deleted_at: string;
}

/** Facts about the database itself (migration 0016), e.g. `secret_check`. */
export interface StoreMetaTable {
  key: string;
  value: string;
}

export interface DB {
  login_throttle: LoginThrottleTable;
  ab_recycle: AbRecycleTable;
  store_meta: StoreMetaTable;
}
