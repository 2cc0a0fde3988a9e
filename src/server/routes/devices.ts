import { z } from 'zod';
import { PageQuery } from '../../wire/common';
import {
  AssignBody,
  type AssignType,
  CliAssignBody,
  DeployBody,
  DeviceFilterQuery,
  DeviceList,
  DisconnectAnswer,
  DisconnectBody,
  HeartbeatBody,
  PeersQuery,
  SysinfoBody,
} from '../../wire/devices';
import { assign, assignToBook } from '../assign';
import { changeRecorded } from '../audit-log';
import { clientIp } from '../auth';
import type { AppDeps } from '../context';
import { HttpError, readBody, readQuery, readText } from '../http';
import { logSafe } from '../line-log';
import type { RouteTable } from '../routes';
import type { Store } from '../store';
import { ConsoleOp, ConsoleType } from '../store/audit';
import { constraintViolation } from '../store/db';
import type { DeviceRecord, ListedDevice } from '../store/devices';
import { handshakeValue } from '../store/strategies';

/**
 * Whether a device last seen at `lastOnline` counts as online at `now` (ms): its last heartbeat is
 * within the online timeout of now, on either side. A time ahead of now means the server's clock
 * stepped back since that heartbeat (NTP correcting a clock that ran ahead): such a time says
 * nothing about how long ago the device was seen, so one up to the timeout ahead counts as seen
 * at most the timeout ago (a device still beating restamps itself within seconds), and one further
 * ahead not as recent at all. Reading it as "seen 0 s ago", as `now - last <= timeout` does, kept
 * a device that went away online for the whole step (an hour for an hour). Left: a stamp far ahead
 * counts again for twice the timeout when the clock catches up with it (nothing stored tells it
 * from a real heartbeat then).
 */
export function seenRecently(lastOnline: string | null, now: number, onlineTimeoutS: number): boolean {
  const last = lastOnline ? Date.parse(lastOnline) : Number.NaN;
  return Number.isFinite(last) && Math.abs(now - last) <= onlineTimeoutS * 1000;
}

export function deviceRow(d: ListedDevice, now: number, onlineTimeoutS: number) {
  return {
    guid: d.guid,
    id: d.id,
    uuid: d.uuid,
    info: {
      device_name: d.device_name,
      username: d.device_username,
      os: d.os,
      cpu: d.cpu,
      memory: d.memory,
      version: d.version,
      ip: d.ip,
    },
    status: d.status,
    is_online: seenRecently(d.last_online, now, onlineTimeoutS),
    last_online: d.last_online,
    user_name: d.user_name,
    group_name: d.group_name,
    device_group_name: d.device_group_name,
    strategy_name: d.strategy_name,
    note: d.note,
    created_at: d.created_at,
  };
}

const Ok = z.object({});
const SYSINFO_VER = `rdadmin-${Date.now().toString(36)}`;

/** Text answers for RustDesk clients, which print them verbatim (`rustdesk --assign`). */
function text(status: 200 | 400 | 403 | 404, body: string): Response {
  return new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
}

export function registerDeviceRoutes(r: RouteTable, deps: AppDeps): void {
  const { store } = deps;

  /** The device, read from `from` (inside a change: the transaction's store), or a 404. */
  async function loadOne(guid: string, from: Store = store): Promise<DeviceRecord> {
    const d = await from.devices.getByGuid(guid);
    if (!d) throw new HttpError(404, `device not found: ${guid}`);
    return d;
  }

  r.add(
    {
      method: 'GET',
      path: '/api/devices',
      tag: 'devices',
      summary:
        "List devices. Filters are case-insensitive LIKE patterns (`%`, `_`, `\\` escapes; a lone `-` means 'not set'): `id`, `device_name`, `user_name` (assigned user), `group_name` (that user's group), `device_group_name`, `device_username`. A device is online while heartbeats arrive (offline after 45 s without one).",
      access: { area: 'device', level: 'r' },
      query: PageQuery.extend(DeviceFilterQuery.shape),
      response: DeviceList,
    },
    async (c) => {
      const page = readQuery(c, PageQuery);
      const f = readQuery(c, DeviceFilterQuery);
      const { rows, total } = await store.devices.list(f, (page.current - 1) * page.pageSize, page.pageSize);
      const timeout = await store.settings.get('online_timeout');
      const now = deps.clock().getTime();
      return c.json({ data: rows.map((d) => deviceRow(d, now, timeout)), total });
    },
  );

  r.add(
    {
      method: 'GET',
      path: '/api/peers',
      tag: 'client',
      summary:
        "The devices the caller may connect to, as a RustDesk client lists them (`accessible`, `status=1`): for a non-admin session, enabled devices of enabled users that are its own, its group-mates', those of user groups it or its group has a rule to, those in device groups it or its group has a rule to, and devices with no user and no device group (unless the setting `only_admin_unassigned` is on). Administrators and API tokens (`device:r`) see every device. Each row also carries `user` (the assigned user's GUID, or empty).",
      access: { area: 'device', level: 'r', allowUserSession: true },
      query: PageQuery.extend(PeersQuery.shape),
      response: DeviceList,
    },
    async (c) => {
      const page = readQuery(c, PageQuery);
      const q = readQuery(c, PeersQuery);
      const p = c.get('principal')!;
      const reacher =
        p.kind === 'session' && !p.user.is_admin
          ? {
              userGuid: p.user.guid,
              groupGuid: p.user.group_guid,
              unassigned: !(await store.settings.get('only_admin_unassigned')),
            }
          : undefined;
      const { rows, total } = await store.devices.list(
        { reachable_by: reacher, status: reacher ? undefined : q.status },
        (page.current - 1) * page.pageSize,
        page.pageSize,
      );
      const timeout = await store.settings.get('online_timeout');
      const now = deps.clock().getTime();
      return c.json({
        data: rows.map((d) => ({ ...deviceRow(d, now, timeout), user: d.user_guid ?? '' })),
        total,
      });
    },
  );

  for (const action of ['enable', 'disable'] as const) {
    r.add(
      {
        method: 'POST',
        path: `/api/devices/{guid}/${action}`,
        tag: 'devices',
        summary:
          action === 'enable'
            ? 'Enable a device.'
            : 'Disable a device (it can neither connect nor be connected to).',
        access: { area: 'device', level: 'rw' },
        response: Ok,
      },
      async (c) => {
        const d = await loadOne(c.req.param('guid') ?? '');
        await changeRecorded(
          deps,
          c,
          ConsoleType.device,
          action === 'enable' ? ConsoleOp.enableDevices : ConsoleOp.disableDevices,
          (tx) => tx.devices.update([d.guid], { status: action === 'enable' ? 1 : 0 }),
          `${action}d device ${d.id}`,
        );
        return c.json({});
      },
    );
  }

  r.add(
    {
      method: 'DELETE',
      path: '/api/devices/{guid}',
      tag: 'devices',
      summary: 'Delete a device. As in Pro, an enabled device must be disabled first.',
      access: { area: 'device', level: 'rw' },
      response: Ok,
    },
    async (c) => {
      const d = await loadOne(c.req.param('guid') ?? '');
      if (d.status === 1)
        throw new HttpError(400, `device ${d.id} is enabled: disable it first, then delete it`);
      await changeRecorded(
        deps,
        c,
        ConsoleType.device,
        ConsoleOp.deleteDevice,
        async (tx) => {
          // Another request may have deleted it since it was loaded: then this one changed nothing.
          if (!(await tx.devices.delete(d.guid))) throw new HttpError(404, `device not found: ${d.guid}`);
        },
        `deleted device ${d.id}`,
      );
      return c.json({});
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/devices/{guid}/assign',
      tag: 'devices',
      summary:
        "Assign a device: `type` is one of user_name, device_group_name, strategy_name, ab (value `book[,tag[,alias[,password[,note]]]]`), note, device_username, device_name. An empty value (or '-') clears user, device group and strategy.",
      access: { area: 'device', level: 'rw' },
      body: AssignBody,
      response: Ok,
    },
    async (c) => {
      // The body first, then the device as it is now, in the transaction that changes it: a slow
      // body must not leave a copy read before it, of a device deleted meanwhile.
      const body = await readBody(c, AssignBody);
      const guid = c.req.param('guid') ?? '';
      await changeRecorded(
        deps,
        c,
        ConsoleType.device,
        ConsoleOp.updateDevice,
        async (tx) =>
          assign(
            { ...deps, store: tx },
            await loadOne(guid, tx),
            body.type,
            body.value,
            c.get('principal')?.user.guid ?? null,
          ),
        (detail) => detail,
      );
      return c.json({});
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/devices/{guid}/reset-uuid',
      tag: 'devices',
      summary:
        "Forget a device's uuid, so that the next heartbeat or system info with its ID registers its machine (a reinstalled or replaced one): a registered device otherwise refuses another uuid (403), as hbbs does. The device keeps its user, groups, strategy and history.",
      access: { area: 'device', level: 'rw' },
      response: Ok,
    },
    async (c) => {
      const d = await loadOne(c.req.param('guid') ?? '');
      await changeRecorded(
        deps,
        c,
        ConsoleType.device,
        ConsoleOp.updateDevice,
        (tx) => tx.devices.update([d.guid], { uuid: '' }),
        `reset the uuid of device ${d.id} (was '${logSafe(d.uuid)}')`,
      );
      return c.json({});
    },
  );

  /**
   * The connections live on a device now: those its last heartbeat reported, while it is online,
   * and those its connection log opened since (not reported yet). An offline device has none.
   */
  async function liveConns(d: DeviceRecord): Promise<number[]> {
    const timeout = await store.settings.get('online_timeout');
    if (!seenRecently(d.last_online, deps.clock().getTime(), timeout)) return [];
    let reported: number[] = [];
    try {
      const v: unknown = JSON.parse(d.conns);
      if (Array.isArray(v)) reported = v.filter((x): x is number => Number.isInteger(x));
    } catch {
      // Written by the heartbeat as a JSON array; anything else counts as none.
    }
    const opened = await store.auditLogs.openConnsSince(d.id, d.last_online!);
    return [...new Set([...reported, ...opened])].sort((a, b) => a - b);
  }

  r.add(
    {
      method: 'POST',
      path: '/api/devices/{guid}/disconnect',
      tag: 'devices',
      summary:
        "Disconnect a device's running connections (the console's Disconnect): `conns` names connection ids (as in the connection log's `conn_id`), or all of the device's live connections when omitted (`{}`). The device drops them at its next heartbeat (every 3 s while it has connections). A named connection that is not live is refused (400); a device that is offline or has no live connection answers `conns: []` and nothing is queued.",
      access: { area: 'device', level: 'rw' },
      body: DisconnectBody,
      response: DisconnectAnswer,
    },
    async (c) => {
      // The body first: a slow body must not leave a copy of the device read before it.
      const body = await readBody(c, DisconnectBody);
      const d = await loadOne(c.req.param('guid') ?? '');
      const live = await liveConns(d);
      let conns = live;
      if (body.conns) {
        conns = [...new Set(body.conns)].sort((a, b) => a - b);
        const gone = conns.filter((n) => !live.includes(n));
        if (gone.length) {
          const state = live.length
            ? `its live connections are ${live.join(', ')}`
            : 'it has no live connection (it may be offline)';
          throw new HttpError(
            400,
            `${gone.length === 1 ? 'connection' : 'connections'} ${gone.join(', ')} not live on device ${d.id}: ${state}`,
          );
        }
      }
      if (conns.length) {
        await changeRecorded(
          deps,
          c,
          ConsoleType.device,
          ConsoleOp.disconnectDevice,
          async (tx) => {
            // Deleted meanwhile by another request: nothing to queue, nothing to record.
            await loadOne(d.guid, tx);
            await tx.devices.queueDisconnect(d.guid, conns);
          },
          `disconnected device ${d.id}: ${conns.length === 1 ? 'connection' : 'connections'} ${conns.join(', ')}`,
        );
      }
      return c.json({ conns });
    },
  );

  // ---- what RustDesk clients call ----

  /**
   * A registered device keeps the uuid it registered with (as hbbs refuses UUID_MISMATCH): a
   * heartbeat or system info from another machine with the same ID, or from anyone who knows the
   * ID, must not take the device over (its name, presets, queued disconnects, audit records).
   */
  function uuidRefused(id: string): HttpError {
    return new HttpError(
      403,
      `device ${id} is registered with another uuid: refused. A reinstalled or replaced machine registers again once an administrator resets the device's uuid (rdadmin devices reset-uuid --id ${id})`,
    );
  }

  /** The device a client speaks for, created on first contact unless deployment is required. */
  async function deviceFor(id: string, uuid: string): Promise<{ device?: DeviceRecord; created: boolean }> {
    const existing = await store.devices.getById(id);
    if (existing) return { device: existing, created: false };
    if ((await store.settings.get('require_deployment')) && !(await store.devices.isDeployed(id))) {
      return { created: false };
    }
    try {
      await store.devices.create(id, { uuid, status: 1 });
    } catch (err) {
      // Two first contacts of one ID at the same moment (a retry, a cloned machine): one creates it.
      if (constraintViolation(err) !== 'unique') throw err;
      return { device: await store.devices.getById(id), created: false };
    }
    return { device: await store.devices.getById(id), created: true };
  }

  r.add(
    {
      method: 'POST',
      path: '/api/heartbeat',
      tag: 'client',
      summary:
        "A client's heartbeat (`id`, `uuid`, `ver`, `modified_at`, `conns`). Creates the device on first contact (unless deployment is required and the ID was not deployed). Answers `sysinfo` to ask for the client's system info, and `disconnect` with connection ids to drop.",
      access: 'public',
      body: HeartbeatBody,
    },
    async (c) => {
      const body = await readBody(c, HeartbeatBody);
      const beat = {
        id: body.id,
        uuid: body.uuid,
        conns: body.conns ?? [],
        ip: clientIp(c),
        at: deps.clock().toISOString(),
      };
      let hb = await store.devices.heartbeat(beat);
      let created = false;
      if (!hb) {
        // First contact (or an ID that may not register).
        const first = await deviceFor(body.id, body.uuid);
        if (!first.device)
          throw new HttpError(403, `device ${body.id} is not deployed: run rustdesk --deploy first`);
        created = first.created;
        hb = await store.devices.heartbeat(beat);
        if (!hb) throw new HttpError(404, `device ${body.id} was deleted while it reported`);
      }
      if (hb.uuidMismatch) throw uuidRefused(body.id);
      // A device whose uuid an administrator reset has just taken this one: ask for its system info.
      const changed = !created && hb.uuid === '' && body.uuid !== '';
      const answer: Record<string, unknown> = {};
      if (created || changed || !hb.sysinfo_at) answer['sysinfo'] = 1;
      if (hb.disconnects.length) answer['disconnect'] = hb.disconnects;
      // Strategy handshake: the client echoes the last `modified_at` it got; a different value for
      // what the device should have now means a change, delivered once.
      const effective = await store.strategies.resolve(hb.chain);
      const want = handshakeValue(effective);
      if (String(body.modified_at ?? '') !== String(want)) {
        answer['modified_at'] = want;
        const options: Record<string, string> =
          effective.strategy && effective.managed ? JSON.parse(effective.strategy.options) : {};
        // A client changes only the options an answer names; an empty value sets one back to its
        // default. So every option a strategy once sent this device and does not set now is sent
        // empty: removed from the strategy, unassigned, replaced, or the strategy disabled. The
        // keys are remembered for good (an answer may be lost; sending one empty again is harmless).
        const sent: string[] = JSON.parse(hb.strategy_keys);
        const cleared = sent.filter((k) => !Object.hasOwn(options, k));
        if (cleared.length || (effective.strategy && effective.managed)) {
          const config_options = Object.fromEntries([
            ...cleared.map((k) => [k, ''] as const),
            ...Object.entries(options),
          ]);
          answer['strategy'] = { config_options, extra: {} };
        }
        const added = Object.keys(options).filter((k) => !sent.includes(k));
        if (added.length) await store.devices.setStrategyKeys(hb.guid, [...sent, ...added]);
      }
      return c.json(answer);
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/sysinfo',
      tag: 'client',
      summary:
        "A client's system info (`cpu`, `memory`, `os`, `hostname`, `username`, `version`) and `preset-*` keys. At the first upload, presets fill what is not set yet (user, device group, note, strategy, an address book); the device name/username presets override the reported ones at every upload. Answers plain text `SYSINFO_UPDATED`, or `ID_NOT_FOUND` for an ID that may not register.",
      access: 'public',
      body: SysinfoBody,
      responseText: 'SYSINFO_UPDATED or ID_NOT_FOUND',
    },
    async (c) => {
      const body = await readBody(c, SysinfoBody);
      const { device } = await deviceFor(body.id, body.uuid);
      if (!device) return text(200, 'ID_NOT_FOUND');
      if (device.uuid !== '' && device.uuid !== body.uuid) throw uuidRefused(body.id);
      const now = deps.clock().toISOString();
      await store.devices.update([device.guid], {
        cpu: body.cpu ?? device.cpu,
        memory: body.memory ?? device.memory,
        os: body.os ?? device.os,
        version: body.version ?? device.version,
        device_name: device.device_name_set
          ? device.device_name
          : body['preset-device-name'] || body.hostname || device.device_name,
        device_username: device.device_username_set
          ? device.device_username
          : body['preset-device-username'] || body.username || device.device_username,
        ...(body.uuid ? { uuid: body.uuid } : {}),
        sysinfo_at: now,
        last_online: now,
      });
      // Presets are the settings a device registers with: applied at its first system-info upload
      // (to what is not set yet, e.g. by --assign), not again. A client sends them with every upload,
      // so applying them later would undo an administrator's removal.
      const first = device.sysinfo_at === null;
      const presets: [AssignType, string | undefined, boolean][] = [
        ['user_name', body['preset-user-name'], device.user_guid === null],
        ['device_group_name', body['preset-device-group-name'], device.device_group_guid === null],
        ['note', body['preset-note'], device.note === ''],
        ['strategy_name', body['preset-strategy-name'], device.strategy_guid === null],
      ];
      const book = body['preset-address-book-name'];
      if (book && first) {
        const entry = {
          book,
          tag: body['preset-address-book-tag'],
          alias: body['preset-address-book-alias'],
          password: body['preset-address-book-password'],
          note: body['preset-address-book-note'],
        };
        await assignToBook(deps, device, entry, null).catch((err: Error) =>
          deps.log(
            logSafe(`sysinfo from ${device.id}: preset address book '${book}' not applied: ${err.message}`),
          ),
        );
      }
      for (const [type, value, unset] of presets) {
        if (!first || !value || !unset) continue;
        try {
          await assign(deps, device, type, value);
        } catch (err) {
          deps.log(
            logSafe(
              `sysinfo from ${device.id}: preset ${type}='${value}' not applied: ${(err as Error).message}`,
            ),
          );
        }
      }
      return text(200, 'SYSINFO_UPDATED');
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/sysinfo_ver',
      tag: 'client',
      summary:
        'Version token of the system info the server wants (older clients upload sysinfo when it changes).',
      access: 'public',
      responseText: 'an opaque version token',
    },
    async (c) => {
      await readText(c);
      return text(200, SYSINFO_VER);
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/devices/cli',
      tag: 'client',
      summary:
        '`rustdesk --assign --token T …`: assign the calling device (by `id`) to a user, device group, strategy or shared address book, or set its note, name or username. Empty answer on success; a short plain-text error otherwise (the client prints it).',
      access: { area: 'device', level: 'rw' },
      body: CliAssignBody,
      responseText: 'empty on success, else the error',
    },
    async (c) => {
      let body: z.infer<typeof CliAssignBody>;
      try {
        body = await readBody(c, CliAssignBody);
      } catch (err) {
        return text(400, (err as Error).message);
      }
      const device = await store.devices.getById(body.id);
      if (!device) return text(404, `device ${body.id} not found: start RustDesk on it once so it registers`);
      // The client sends its uuid: another machine with the same ID must not reassign the device.
      if (body.uuid && device.uuid && body.uuid !== device.uuid)
        return text(
          403,
          `device ${body.id} is registered with another uuid (rdadmin devices reset-uuid --id ${body.id})`,
        );
      const operator = c.get('principal')?.user.guid ?? null;
      // Each step is applied and recorded on its own (a later step's error keeps the earlier ones).
      const steps: ((d: AppDeps) => Promise<string>)[] = [];
      const fields: [AssignType, string | undefined][] = [
        ['user_name', body.user_name],
        ['strategy_name', body.strategy_name],
        ['device_group_name', body.device_group_name],
        ['note', body.note],
        ['device_username', body.device_username],
        ['device_name', body.device_name],
      ];
      for (const [type, value] of fields) if (value) steps.push((d) => assign(d, device, type, value));
      if (body.address_book_name) {
        const entry = {
          book: body.address_book_name,
          tag: body.address_book_tag,
          alias: body.address_book_alias,
          password: body.address_book_password,
          note: body.address_book_note,
        };
        steps.push((d) => assignToBook(d, device, entry, operator));
      }
      if (steps.length === 0)
        return text(400, 'nothing to assign: give --user_name, --device_group_name, --note, …');
      for (const step of steps) {
        try {
          await changeRecorded(
            deps,
            c,
            ConsoleType.device,
            ConsoleOp.updateDevice,
            (tx) => step({ ...deps, store: tx }),
            (d) => `${d} (rustdesk --assign)`,
          );
        } catch (err) {
          if (!(err instanceof HttpError)) throw err;
          return text(400, err.message);
        }
      }
      return new Response(null, { status: 200 });
    },
  );

  r.add(
    {
      method: 'POST',
      path: '/api/devices/deploy',
      tag: 'client',
      summary:
        '`rustdesk --deploy --token T`: lets an ID register while "require deployment for new devices" is on. Answers `{result}`: OK, NOT_ENABLED (the setting is off), INVALID_INPUT, ID_TAKEN.',
      access: { area: 'device', level: 'rw' },
      body: DeployBody,
      response: z.object({ result: z.enum(['OK', 'NOT_ENABLED', 'INVALID_INPUT', 'ID_TAKEN']) }),
    },
    async (c) => {
      const body = await readBody(c, DeployBody).catch(() => undefined);
      const id = body?.id?.trim();
      if (!body || !id || !/^[^\s/\\?#%]{1,100}$/.test(id) || !body.uuid)
        return c.json({ result: 'INVALID_INPUT' });
      if (!(await store.settings.get('require_deployment'))) return c.json({ result: 'NOT_ENABLED' });
      const existing = await store.devices.getById(id);
      if (existing?.uuid && existing.uuid !== body.uuid) return c.json({ result: 'ID_TAKEN' });
      const uuid = body.uuid;
      await changeRecorded(
        deps,
        c,
        ConsoleType.device,
        ConsoleOp.addDevice,
        async (tx) => {
          await tx.devices.deploy(id, uuid, body.pk ?? '');
          if (!existing) await tx.devices.create(id, { uuid, pk: body.pk ?? null, status: 1 });
        },
        `deployed device ${id}`,
      );
      return c.json({ result: 'OK' });
    },
  );
}
