// JSON that keeps every digit of large integers. RustDesk clients post `session_id` as an unsigned
// 64-bit number, and JSON.parse rounds anything above 2^53 (18446744073709551615 would become
// 18446744073709552000). Node 20 has neither JSON.rawJSON nor the reviver's source text, so:
// a small parser that yields a bigint for every integer JSON.parse cannot hold exactly, and a
// stringifier that writes bigints back as plain JSON numbers. Zod-free: the CLI and the server
// both use it.

const MAX_DEPTH = 500;
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

/** A string's text from its opening quote up to the next quote or backslash, if that is its end. */
const PLAIN_STRING = /"([^"\\\u0000-\u001f]*)"/y;

/**
 * `s` in a string of its own. V8 makes a piece of 13 characters or more of a string (a match, a
 * slice) a view into that string, which then lives as long as the piece: one GUID kept from a page
 * (a listing remembers the GUIDs it has seen) would keep the whole page's text. JSON.parse makes
 * its strings anew; so does this (the piece is joined to another and cut back, which copies it).
 */
function copied(s: string): string {
  return s.length < 13 ? s : `${s} `.slice(0, -1);
}

/** Parses JSON like JSON.parse, except that integers beyond ±(2^53 − 1) come back as bigints. */
export function parseJsonLossless(text: string): unknown {
  let i = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at position ${i} of the JSON text`);
  };
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };
  const str = (): string => {
    // Most strings hold no escape and no control character: their text is the string.
    PLAIN_STRING.lastIndex = i;
    const plain = PLAIN_STRING.exec(text);
    if (plain) {
      i = PLAIN_STRING.lastIndex;
      return copied(plain[1]!);
    }
    const start = i;
    let j = i + 1;
    for (;;) {
      const c = text.charCodeAt(j);
      if (Number.isNaN(c)) {
        i = j;
        fail('unterminated string');
      }
      if (c === 0x5c) j += 2;
      else if (c === 0x22) break;
      else j++;
    }
    i = j + 1;
    // The literal is well delimited; JSON.parse checks its escapes and control characters.
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
    ws();
    const c = text.charCodeAt(i);
    if (c === 0x7b /* { */) {
      i++;
      const obj: Record<string, unknown> = {};
      ws();
      if (text.charCodeAt(i) === 0x7d /* } */) {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text.charCodeAt(i) !== 0x22) fail('expected a property name');
        const key = str();
        ws();
        if (text.charCodeAt(i) !== 0x3a /* : */) fail("expected ':'");
        i++;
        const v = value(depth + 1);
        // A key named __proto__ stays an ordinary property, as with JSON.parse.
        if (key === '__proto__')
          Object.defineProperty(obj, key, { value: v, enumerable: true, writable: true, configurable: true });
        else obj[key] = v;
        ws();
        const next = text.charCodeAt(i);
        if (next === 0x2c /* , */) i++;
        else if (next === 0x7d) {
          i++;
          return obj;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === 0x5b /* [ */) {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text.charCodeAt(i) === 0x5d /* ] */) {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        const next = text.charCodeAt(i);
        if (next === 0x2c) i++;
        else if (next === 0x5d) {
          i++;
          return arr;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === 0x22) return str();
    if (c === 0x74 /* t */ && text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (c === 0x66 /* f */ && text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (c === 0x6e /* n */ && text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail('unexpected character');
    i += m[0].length;
    const n = Number(m[0]);
    if (m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(n)) return BigInt(m[0]);
    return n;
  };
  const result = value(0);
  ws();
  if (i < text.length) fail('unexpected text after the JSON value');
  return result;
}

/**
 * Stands in for a bigint while JSON.stringify runs: random per process and never written anywhere,
 * so no string in the data can carry it. Made on the first bigint: `globalThis.crypto` loads Web
 * Crypto on first use, about 7 ms, which every command paid at start-up while this was made when
 * the module loaded.
 */
let marked: { marker: string; pattern: RegExp } | undefined;
function bigintMarker(): { marker: string; pattern: RegExp } {
  if (!marked) {
    const marker = `bigint-${globalThis.crypto.randomUUID()}:`;
    marked = { marker, pattern: new RegExp(`"${marker}(-?\\d+)"`, 'g') };
  }
  return marked;
}

/**
 * `v` with each bigint replaced by a string carrying the marker; `v` itself when it holds none.
 * Containers are copied only along the way to a bigint. Objects with a toJSON() are left to
 * JSON.stringify (rdadmin's values hold none that yields a bigint).
 */
function markBigints(v: unknown): unknown {
  if (typeof v === 'bigint') return `${bigintMarker().marker}${v.toString()}`;
  if (v === null || typeof v !== 'object' || typeof (v as { toJSON?: unknown }).toJSON === 'function')
    return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = markBigints(v[i]);
      if (x === v[i]) continue;
      out ??= v.slice();
      out[i] = x;
    }
    return out ?? v;
  }
  const o = v as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(o)) {
    const x = markBigints(o[k]);
    if (x === o[k]) continue;
    out ??= { ...o };
    out[k] = x;
  }
  return out ?? v;
}

/**
 * JSON.stringify that writes bigints as JSON numbers with all their digits (JSON.stringify itself
 * throws on them). Each bigint travels through JSON.stringify as a string carrying the marker,
 * which is then unquoted. The bigints are marked beforehand (markBigints()), not by a replacer:
 * JSON.stringify calls a replacer for every key and value, which made it several times slower.
 * One marker and one expression for the process: a new one per call compiled a new regular
 * expression each time, and V8 keeps compiled expressions in a cache (`audits view-conn --all
 * --json` over 300,000 records peaked at 735 MB, and spent a third of its time there).
 */
export function stringifyJson(value: unknown, indent?: number): string {
  const marked = markBigints(value);
  const text = JSON.stringify(marked, undefined, indent);
  if (text === undefined) return text as unknown as string;
  return marked !== value ? text.replaceAll(bigintMarker().pattern, '$1') : text;
}
