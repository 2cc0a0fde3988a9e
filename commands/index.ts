import type { AreaSpec, VerbSpec } from '../src/cli/verb';
import { abArea } from './ab';
import { auditsArea } from './audits';
import { configArea } from './config';
import { deviceGroupsArea } from './device-groups';
import { devicesArea } from './devices';
import { serveVerb } from './serve';
import { loginVerb, logoutVerb } from './session';
import { settingsArea } from './settings';
import { strategiesArea } from './strategies';
import { tokensArea } from './tokens';
import { userGroupsArea } from './user-groups';
import { usersArea } from './users';

// The command tree. Command modules import only light code; the HTTP client, zod, the server and
// the prompt library are loaded when a command runs.

export const areas: AreaSpec[] = [
  usersArea,
  userGroupsArea,
  deviceGroupsArea,
  devicesArea,
  strategiesArea,
  abArea,
  auditsArea,
  tokensArea,
  settingsArea,
  configArea,
];
export const topLevel: VerbSpec[] = [serveVerb, loginVerb, logoutVerb];
