import { UsageError } from './errors';
import { shownUrl, visible } from './output';

/**
 * Refuses (exit 2, before any request) a server URL that rdadmin could not use as given:
 * - not http(s)://host;
 * - an `@`: a user name or password (`https://user:pw@host`). rdadmin never sends them (its
 *   Authorization header carries the token), so a proxy that wants them would answer 401 and the
 *   token would be blamed; refused rather than warned about, since it can never work and a warning
 *   on every command is soon ignored. An `@` in a path prefix can be written `%40`;
 * - not a URL at all (`http://u:a/b@h`, a port out of range);
 * - a query or a fragment: the API paths are appended to the URL, so they would end up in the
 *   wrong place (`http://h?x=1/api/users` asks for `/`).
 * The URL is shown as shownUrl() has it (never a password).
 */
export function checkServerUrl(url: string): void {
  const bad = (problem: string, hint?: string) =>
    new UsageError(`invalid server URL '${visible(shownUrl(url))}': ${problem}`, hint);
  const form = 'the form is http(s)://host[:port], with the path prefix of the console if it has one';
  if (!/^https?:\/\/[^/]/i.test(url)) throw bad('it must start with http:// or https://');
  if (url.includes('@')) {
    throw bad(
      'it holds a user name or password (user:password@), which rdadmin never sends',
      `remove them: rdadmin authenticates with the token alone; ${form} (an @ in the path is written %40)`,
    );
  }
  if (!URL.canParse(url)) throw bad('it is not a valid URL', form);
  if (/[?#]/.test(url)) throw bad('it holds a query (?…) or a fragment (#…)', form);
}
