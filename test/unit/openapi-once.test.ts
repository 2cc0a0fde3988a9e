import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AppDeps, AppEnv } from '../../src/server/context';
import { RouteTable } from '../../src/server/routes';
import { registerOpenApiRoute } from '../../src/server/routes/openapi';

// GET /api/openapi.json is static while a server runs: the document (125 KB, about 9 ms to build)
// is made on the first request and answered from then on, not built again per request.

describe('GET /api/openapi.json', () => {
  it('is built once, on the first request', async () => {
    const app = new Hono<AppEnv>();
    const r = new RouteTable(app, {} as AppDeps);
    registerOpenApiRoute(r, '1.2.3');
    const first = await app.request('/api/openapi.json');
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^application\/json/);
    const text = await first.text();
    expect(JSON.parse(text).paths).toHaveProperty(['/api/openapi.json']);
    // A route spec added after the first request is not in the document: it was not built again.
    r.specs.push({ method: 'GET', path: '/api/later', tag: 'meta', summary: 'later', access: 'public' });
    expect(await (await app.request('/api/openapi.json')).text()).toBe(text);
  });
});
