import * as ab from './ab';
import * as audits from './audits';
import * as auth from './auth';
import * as deviceGroups from './device-groups';
import * as devices from './devices';
import * as strategies from './strategies';
import * as userGroups from './user-groups';
import * as users from './users';

/**
 * The modules of the API's areas, each got when `createApi`'s object is first asked for it. Here
 * (the sources, as tests and the type checker see them) every module is imported up front. The
 * CLI's bundle is built with `areas-lazy.ts` in this file's place (scripts/build.mjs), which
 * evaluates a module, and builds its zod schemas, only when it is first got: building every
 * area's schemas took about 15 ms of each API command's start, which needs one or two areas.
 */
export const areas = {
  ab: () => ab,
  audits: () => audits,
  auth: () => auth,
  deviceGroups: () => deviceGroups,
  devices: () => devices,
  strategies: () => strategies,
  userGroups: () => userGroups,
  users: () => users,
};

/** The areas whose modules have been evaluated (here: all, as they were imported). */
export function loadedAreas(): string[] {
  return Object.keys(areas);
}
