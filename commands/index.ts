import type { AreaSpec, VerbSpec } from '../src/cli/verb';
import { abArea } from './ab';
import { configArea } from './config';
import { serveVerb } from './serve';
import { loginVerb, logoutVerb } from './session';
import { tokensArea } from './tokens';
import { usersArea } from './users';

// The command tree. Command modules import only light code; the HTTP client, zod, the server and
// the prompt library are loaded when a command runs.

export const areas: AreaSpec[] = [usersArea, abArea, tokensArea, configArea];
export const topLevel: VerbSpec[] = [serveVerb, loginVerb, logoutVerb];
