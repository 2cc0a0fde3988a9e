import { publicBase } from '../auth';
import type { AppDeps } from '../context';
import type { RouteTable } from '../routes';

// The server's root. A RustDesk client's address-book menu ("web console") opens the API server's
// address in a browser; this server has no web console, so the page says so. Static text only:
// nothing about this server, its version or its data.
const homePage = (openApi: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>rdadmin serve</title></head>
<body>
<h1>rdadmin serve</h1>
<p>This is the API server of <b>rdadmin serve</b>, a console server core for RustDesk clients that
implements the RustDesk Server Pro admin API. It has no web console.</p>
<p>Administrators manage users, devices, address books, strategies and audit logs with the
<code>rdadmin</code> command-line tool (or the RustDesk Server Pro Python scripts). The API is
described in <a href="${openApi}">api/openapi.json</a>.</p>
</body>
</html>
`;

/**
 * Where the page links the API description. Relative by default, which works at the root and
 * under a proxy's sub-path reached with a trailing slash; when the server knows its public path
 * (--public-url, or --trust-proxy with X-Forwarded-Prefix), that path, so `/console` without the
 * slash works too.
 */
function openApiHref(c: Parameters<typeof publicBase>[0], config: AppDeps['config']): string {
  if (!config.publicUrl && !config.trustProxy) return 'api/openapi.json';
  const path = new URL(publicBase(c, config)).pathname.replace(/\/+$/, '');
  const href = path ? `${path}/api/openapi.json` : 'api/openapi.json';
  return href.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export function registerHomeRoute(r: RouteTable, deps: AppDeps): void {
  r.add(
    {
      method: 'GET',
      path: '/',
      tag: 'meta',
      summary:
        'A short HTML page saying that this is rdadmin serve, which has no web console (what a RustDesk client opens from its address-book menu).',
      access: 'public',
      responseText: 'an HTML page',
      responseMedia: 'text/html',
    },
    (c) => c.html(homePage(openApiHref(c, deps.config))),
  );
}
