import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import type { IO, Writable } from '../../src/cli/io';
import { Output, visible } from '../../src/cli/output';
import { shownUrl } from '../../src/client/transport';

// Text from a server (device fields come from any RustDesk client) is shown, never obeyed: every
// human output path escapes control and bidi characters before it adds its own colour.

function streams(tty: boolean, env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const make = (into: string[]): Writable => ({
    isTTY: tty,
    write(text: string) {
      into.push(text);
      return true;
    },
  });
  const io = { stdin: process.stdin, stdout: make(out), stderr: make(err), env } as unknown as IO;
  return { io, out: () => out.join(''), err: () => err.join('') };
}

const HOSTILE = 'evil\u001b[2J\u001b]0;pwned\u0007host';

describe('visible()', () => {
  it('escapes C0, DEL, C1 and bidi controls; leaves other text (a backslash, accents, CJK) alone', () => {
    expect(visible(HOSTILE)).toBe('evil\\x1b[2J\\x1b]0;pwned\\x07host');
    expect(visible('a\u0000b\u007fc\u0085d\u009be')).toBe('a\\x00b\\u007fc\\u0085d\\u009be');
    expect(visible('txt\u202eexe.\u2066x\u2069\u202a')).toBe('txt\\u202eexe.\\u2066x\\u2069\\u202a');
    expect(visible('C:\\Users\\é 日本 🙂 \u200b')).toBe('C:\\Users\\é 日本 🙂 \u200b');
  });

  it("'line' (the default) escapes tabs and line ends too; 'cell' keeps LF; 'lines' keeps tab, LF and CRLF", () => {
    const s = 'a\tb\nc\r\nd\re';
    expect(visible(s)).toBe('a\\tb\\nc\\r\\nd\\re');
    expect(visible(s, 'cell')).toBe('a\\tb\nc\\r\nd\\re');
    expect(visible(s, 'lines')).toBe('a\tb\nc\r\nd\\re');
  });

  it('JSON text stays valid JSON of the same value (DEL, C1 and bidi become JSON escapes)', () => {
    const value = { name: `x\u007f\u0085\u202e${HOSTILE}` };
    const text = JSON.stringify(value, null, 2);
    expect(JSON.parse(visible(text, 'lines'))).toEqual(value);
    expect(visible(text, 'lines')).not.toMatch(/[\u007f-\u009f\u202a-\u202e]/);
  });
});

describe('Output escapes what it prints for a person', () => {
  it('piped data lines and raw text: controls escaped, tabs and line ends (LF, CRLF) kept', () => {
    const s = streams(false);
    const out = new Output(s.io, { json: false, noColor: false });
    out.data(`name\t${HOSTILE}`);
    out.data('a,"b\r\nc"\r\n');
    out.text('x\ry\u009b\n');
    out.flush();
    expect(s.out()).toBe('name\tevil\\x1b[2J\\x1b]0;pwned\\x07host\na,"b\r\nc"\r\nx\\ry\\u009b\n');
  });

  it('--json output is left exactly as written', () => {
    const s = streams(false);
    const out = new Output(s.io, { json: true, noColor: false });
    out.text('\u202e');
    out.data('\u202e');
    out.flush();
    expect(s.out()).toBe('\u202e\u202e\n');
  });

  it('messages: escaped before our colour is added; an error is one line', () => {
    const s = streams(true);
    const out = new Output(s.io, { json: false, noColor: false });
    out.error(`bad\u001b[31m…\nerror: FORGED`);
    out.warn(`w\u0007`);
    out.success(`Created ${HOSTILE}.`);
    out.info(`line one\u001b[8m\n  line two`);
    expect(s.err()).toBe(
      [
        '\u001b[31merror: bad\\x1b[31m…\\nerror: FORGED\u001b[0m',
        '\u001b[33mwarning: w\\x07\u001b[0m',
        '\u001b[32mCreated evil\\x1b[2J\\x1b]0;pwned\\x07host.\u001b[0m',
        'line one\\x1b[8m',
        '  line two',
        '',
      ].join('\n'),
    );
    expect(out.dim('a\u001bb')).toBe('\u001b[2ma\\x1bb\u001b[0m');
  });

  it('a piped table: separators inside a cell become spaces, other controls escapes', async () => {
    const s = streams(false);
    const out = new Output(s.io, { json: false, noColor: false });
    await out.table([{ header: 'A', value: (r: string) => r }], [`a\tb\nc\r${HOSTILE}\u202e`]);
    out.flush();
    expect(s.out()).toBe('a b c evil\\x1b[2J\\x1b]0;pwned\\x07host\\u202e\n');
  });

  it('a terminal table: cells escaped, widths measured on what is shown, our colours kept', async () => {
    const s = streams(true);
    const out = new Output(s.io, { json: false, noColor: false });
    const rows = [
      ['1', HOSTILE],
      ['2', 'two\nlines\u0007'],
    ];
    await out.table(
      [
        { header: 'ID', value: (r: string[]) => r[0]! },
        { header: 'NAME', value: (r: string[]) => r[1]! },
      ],
      rows,
    );
    const shown = s.out().replace(/\u001b\[(?:36|39|90)m/g, '');
    expect(s.out()).toContain('\u001b[36m ID \u001b[39m');
    expect(shown).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    const lines = shown.trimEnd().split('\n');
    const name = 'evil\\x1b[2J\\x1b]0;pwned\\x07host';
    expect(lines).toContain(`│ 1  │ ${name} │`);
    expect(lines).toContain(`│ 2  │ ${'two'.padEnd(name.length)} │`);
    expect(lines).toContain(`│    │ ${'lines\\x07'.padEnd(name.length)} │`);
    expect(new Set(lines.map((l) => stringWidth(l))).size).toBe(1);
  });
});

describe('shownUrl()', () => {
  it('hides everything from the scheme to the last @, whether or not the URL parses', () => {
    expect(shownUrl('http://user:UrlPw-Secret@127.0.0.1:1')).toBe('http://***@127.0.0.1:1');
    expect(shownUrl('https://u:p@ss:w@rd@rd.example.com/rd')).toBe('https://***@rd.example.com/rd');
    expect(shownUrl('http://:secret@host')).toBe('http://***@host');
    expect(shownUrl('http://token-as-user@host')).toBe('http://***@host');
    // Not a URL: the password holds a / (or a ? or #), which ends the authority for URL parsing.
    expect(shownUrl('http://u:secret/pw@127.0.0.1:21199')).toBe('http://***@127.0.0.1:21199');
    expect(shownUrl('http://u:sec?ret@h/rd')).toBe('http://***@h/rd');
    expect(shownUrl('HTTPS://u:s#cret@h')).toBe('HTTPS://***@h');
    expect(shownUrl('u:secret@host')).toBe('***@host');
    expect(shownUrl('http://host:21114/rd')).toBe('http://host:21114/rd');
    expect(shownUrl('not a url')).toBe('not a url');
  });
});
