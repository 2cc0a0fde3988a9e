import {
  AbPeerRow,
  type AbPeerRow as AbPeerRowT,
  AbProfileRow,
  type AbProfileRow as AbProfileRowT,
  AbRecycledRow,
  type AbRecycledRow as AbRecycledRowT,
  AbRuleRow,
  type AbRuleRow as AbRuleRowT,
  AbSettings,
  AbTagList,
  AddSharedBody,
  CreatedAnswer,
  PeerBody,
  PersonalAb,
  UpdateSharedBody,
} from '../wire/ab';
import { checkInput, type FlagNames } from './input';
import { paginate } from './paginate';
import { path, type Transport } from './transport';

/** A peer as sent to add/update: absent keys are not sent; `""` and `[]` are sent (they clear). */
export interface PeerFields {
  alias?: string;
  note?: string;
  tags?: string[];
  password?: string;
}

/** A change of a shared book's profile: absent keys are not sent. */
export interface SharedUpdate {
  guid: string;
  name?: string;
  note?: string;
  owner?: string;
  info?: { password: string };
}

/** One typed function per address-book endpoint (pro-admin-api.md §9, rows 26–42, plus tag rename). */
export function abApi(t: Transport, pageSize = 100) {
  return {
    /** Request bodies as the server checks and stores them (see checkInput); a usage error otherwise. */
    checkShared(body: { name: string; note?: string; info?: { password: string } }, flags?: FlagNames) {
      return checkInput(AddSharedBody, body, flags) as typeof body;
    },
    checkSharedUpdate(body: SharedUpdate, flags?: FlagNames) {
      return checkInput(UpdateSharedBody, body, flags) as SharedUpdate;
    },
    checkPeer(id: string, fields: PeerFields, flags?: FlagNames): { id: string; fields: PeerFields } {
      const { id: stored, ...rest } = checkInput(PeerBody, { id, ...fields }, flags);
      return { id: stored, fields: rest as PeerFields };
    },
    personal() {
      return t.call('GET', '/api/ab/personal', { schema: PersonalAb });
    },
    settings() {
      return t.call('GET', '/api/ab/settings', { schema: AbSettings });
    },
    /** Shared books; `name` is a LIKE pattern sent as given. */
    listShared(name?: string): AsyncGenerator<AbProfileRowT> {
      return paginate(t, '/api/ab/shared/profiles', { name }, AbProfileRow, { pageSize });
    },
    addShared(body: { name: string; note?: string; info?: { password: string } }) {
      return t.call('POST', '/api/ab/shared/add', { body, schema: CreatedAnswer });
    },
    updateShared(body: SharedUpdate) {
      return t.call('PUT', '/api/ab/shared/update/profile', { body });
    },
    deleteShared(guids: string[]) {
      return t.call('DELETE', '/api/ab/shared', { body: guids });
    },
    /** Peers of a book; `id` and `alias` are LIKE patterns sent as given. */
    listPeers(ab: string, f: { id?: string; alias?: string } = {}): AsyncGenerator<AbPeerRowT> {
      return paginate(t, '/api/ab/peers', { ab, id: f.id, alias: f.alias }, AbPeerRow, { pageSize });
    },
    addPeer(ab: string, id: string, fields: PeerFields) {
      return t.call('POST', path`/api/ab/peer/add/${ab}`, { body: { id, ...fields } });
    },
    updatePeer(ab: string, id: string, fields: PeerFields) {
      return t.call('PUT', path`/api/ab/peer/update/${ab}`, { body: { id, ...fields } });
    },
    deletePeers(ab: string, ids: string[]) {
      return t.call('DELETE', path`/api/ab/peer/${ab}`, { body: ids });
    },
    /** The recycle bin of a book (rdadmin serve). */
    listRecycled(ab: string): AsyncGenerator<AbRecycledRowT> {
      return paginate(t, '/api/ab/recycle', { ab }, AbRecycledRow, { pageSize });
    },
    restorePeers(ab: string, ids: string[]) {
      return t.call('POST', path`/api/ab/recycle/restore/${ab}`, { body: ids, serveOnly: true });
    },
    /** Deletes these peers from the bin for good. */
    purgeRecycled(ab: string, ids: string[]) {
      return t.call('DELETE', path`/api/ab/recycle/${ab}`, { body: ids, serveOnly: true });
    },
    tags(ab: string) {
      return t.call('GET', path`/api/ab/tags/${ab}`, { schema: AbTagList });
    },
    addTag(ab: string, name: string, color: number) {
      return t.call('POST', path`/api/ab/tag/add/${ab}`, { body: { name, color } });
    },
    updateTag(ab: string, name: string, color: number) {
      return t.call('PUT', path`/api/ab/tag/update/${ab}`, { body: { name, color } });
    },
    renameTag(ab: string, from: string, to: string) {
      return t.call('PUT', path`/api/ab/tag/rename/${ab}`, { body: { old: from, new: to } });
    },
    deleteTags(ab: string, names: string[]) {
      return t.call('DELETE', path`/api/ab/tag/${ab}`, { body: names });
    },
    listRules(ab: string): AsyncGenerator<AbRuleRowT> {
      return paginate(t, '/api/ab/rules', { ab }, AbRuleRow, { pageSize });
    },
    addRule(body: { guid: string; rule: number; user?: string; group?: string }) {
      return t.call('POST', '/api/ab/rule', { body, schema: CreatedAnswer });
    },
    updateRule(guid: string, rule: number) {
      return t.call('PATCH', '/api/ab/rule', { body: { guid, rule } });
    },
    deleteRules(guids: string[]) {
      return t.call('DELETE', '/api/ab/rules', { body: guids });
    },
  };
}
export type AbApi = ReturnType<typeof abApi>;
