import type { areas as eager } from './areas';

// areas.ts for the CLI's bundle (scripts/build.mjs puts this file in its place): esbuild turns
// each require() below into the lazy evaluation of that module (and of what it imports that is
// not evaluated yet), all inside the one bundle. Same exports as areas.ts.

const loaded = new Set<string>();

function once<K extends keyof typeof eager>(name: K, load: () => ReturnType<(typeof eager)[K]>) {
  let mod: ReturnType<(typeof eager)[K]> | undefined;
  return () => {
    if (!mod) {
      mod = load();
      loaded.add(name);
    }
    return mod;
  };
}

export const areas: typeof eager = {
  ab: once('ab', () => require('./ab')),
  audits: once('audits', () => require('./audits')),
  auth: once('auth', () => require('./auth')),
  deviceGroups: once('deviceGroups', () => require('./device-groups')),
  devices: once('devices', () => require('./devices')),
  strategies: once('strategies', () => require('./strategies')),
  userGroups: once('userGroups', () => require('./user-groups')),
  users: once('users', () => require('./users')),
};

/** The areas whose modules have been evaluated, in the order they were first got. */
export function loadedAreas(): string[] {
  return [...loaded];
}
