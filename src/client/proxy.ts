import { BlockList, isIP } from 'node:net';
import { UsageError } from '../cli/errors';
import { visible } from '../cli/output';

/** The forward proxy a server URL is reached through (see proxyFor). */
export interface ProxyChoice {
  /** What undici connects to (with its credentials, if any). */
  uri: string;
  /** The proxy as messages show it: scheme, host and port only (never its credentials). */
  shown: string;
  /** The environment variable it came from (HTTPS_PROXY, all_proxy, …). */
  from: string;
}

type Env = Record<string, string | undefined>;

/**
 * Where each scheme's proxy is looked up, in order: the scheme's own variable, then ALL_PROXY as
 * curl does when that is unset. For https, HTTP_PROXY comes last: undici's EnvHttpProxyAgent (which
 * rdadmin used before) fell back to it, and a setup that relies on that keeps working.
 */
const PROXY_VARS: Record<'http:' | 'https:', string[]> = {
  'http:': ['http_proxy', 'HTTP_PROXY', 'all_proxy', 'ALL_PROXY'],
  'https:': ['https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'http_proxy', 'HTTP_PROXY'],
};

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/**
 * The proxy that requests to `target` (the server's base URL) go through, from the environment:
 * none when no variable names one or NO_PROXY excludes the host. NO_PROXY is read as undici reads
 * it: entries split on commas and spaces, `*` for every host, `host` or `.host` for that host and
 * its subdomains, `host:port` for that port only, and (as curl since 7.86) `address/bits` for
 * the IP addresses of that range. A proxy URL that rdadmin cannot use (a SOCKS
 * proxy, say) is a usage error naming its variable, rather than a failure on every request.
 */
export function proxyFor(target: string, env: Env): ProxyChoice | undefined {
  const url = new URL(target);
  const vars = PROXY_VARS[url.protocol as 'http:' | 'https:'];
  if (!vars) return undefined;
  const from = vars.find((v) => env[v]?.trim());
  if (!from) return undefined;
  if (!shouldProxy(url, env['no_proxy']?.trim() || env['NO_PROXY'] || '')) return undefined;
  const raw = env[from]!.trim();
  // curl takes `host:port` for http://host:port.
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`;
  let proxy: URL;
  try {
    proxy = new URL(withScheme);
  } catch {
    throw new UsageError(
      `${from} is not a URL rdadmin can use as a proxy`,
      `set ${from} to http://HOST:PORT (or unset it), or add the server's host to NO_PROXY`,
    );
  }
  const shown = visible(`${proxy.protocol}//${proxy.host}`);
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
    throw new UsageError(
      `${from} names a ${visible(proxy.protocol.replace(/:$/, ''))} proxy (${shown}); rdadmin uses http:// and https:// proxies only`,
      `for rdadmin, set ${/^all_proxy$/i.test(from) ? (url.protocol === 'https:' ? 'HTTPS_PROXY' : 'HTTP_PROXY') : from} to an HTTP proxy, or add the server's host to NO_PROXY`,
    );
  }
  return { uri: proxy.href, shown, from };
}

function shouldProxy(url: URL, noProxy: string): boolean {
  // Without brackets (an IPv6 host) and a trailing dot, as entries are written.
  const host = url.hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
  const port = Number(url.port) || DEFAULT_PORTS[url.protocol] || 0;
  for (const entry of noProxy.split(/[,\s]/)) {
    if (!entry) continue;
    if (entry === '*') return false;
    const range = /^\[?([0-9A-Fa-f:.]+)\]?\/(\d{1,3})$/.exec(entry);
    if (range) {
      if (inRange(host, range[1]!, Number(range[2]))) return false;
      continue;
    }
    // host, .domain, host:port, [v6], [v6]:port, or a bare v6 address (its colons are not a port).
    const m =
      /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? (isIP(entry) ? null : /^(.+?)(?::(\d+))?$/.exec(entry));
    const name = (m ? m[1]! : entry)
      .replace(/^\*?\./, '')
      .replace(/\.$/, '')
      .toLowerCase();
    if (m?.[2] && Number(m[2]) !== port) continue;
    // An IP address matches itself only; a name, itself and its subdomains.
    if (host === name || (!isIP(host) && host.endsWith(`.${name}`))) return false;
  }
  return true;
}

/** Whether the IP address `host` is in `address/bits` (a name never is; nor the other family). */
function inRange(host: string, address: string, bits: number): boolean {
  const family = isIP(address);
  if (family === 0 || isIP(host) !== family || bits > (family === 4 ? 32 : 128)) return false;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const list = new BlockList();
  list.addSubnet(address, bits, type);
  return list.check(host, type);
}
