import { z } from 'zod';
import type { RouteSpec, RouteTable } from '../routes';

function schemaOf(s: z.ZodType | undefined, io: 'input' | 'output'): unknown {
  if (!s) return undefined;
  try {
    return z.toJSONSchema(s, { io, unrepresentable: 'any' });
  } catch {
    return {};
  }
}

function security(spec: RouteSpec): unknown {
  if (spec.access === 'public') return [];
  return [{ bearer: [] }];
}

function accessText(spec: RouteSpec): string {
  const a = spec.access;
  if (a === 'public') return 'No authentication.';
  if (a === 'session') return 'A user session (from /api/login).';
  if (a === 'admin-session') return "An administrator's session (from /api/login); API tokens are refused.";
  if (a === 'authenticated')
    return 'Any valid session or API token (each request inside is authorized on its own).';
  return `API token with ${a.area}:${a.level}, or an administrator's session${a.allowUserSession ? ' (non-admin sessions get a limited view)' : ''}.`;
}

/** Builds the OpenAPI 3.1 document from the same zod schemas the routes validate with. */
export function buildOpenApi(specs: readonly RouteSpec[], version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const params = [...spec.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const query = schemaOf(spec.query, 'input') as
      | { properties?: Record<string, unknown>; required?: string[] }
      | undefined;
    for (const [name, schema] of Object.entries(query?.properties ?? {})) {
      params.push({ name, in: 'query', required: query?.required?.includes(name) ?? false, schema } as never);
    }
    const op: Record<string, unknown> = {
      summary: spec.summary,
      description: `Access: ${accessText(spec)}`,
      tags: [spec.tag],
      security: security(spec),
      parameters: params,
      responses: {
        '200': spec.responseText
          ? {
              description: spec.responseText,
              content: { [spec.responseMedia ?? 'text/plain']: { schema: { type: 'string' } } },
            }
          : {
              description: 'Success',
              content: { 'application/json': { schema: schemaOf(spec.response, 'output') ?? {} } },
            },
        '4XX': {
          description: 'Error',
          content: {
            'application/json': {
              schema: { type: 'object', properties: { error: { type: 'string' } }, required: ['error'] },
            },
          },
        },
      },
    };
    if (spec.body) {
      op['requestBody'] = {
        required: true,
        content: { 'application/json': { schema: schemaOf(spec.body, 'input') } },
      };
    }
    paths[spec.path] ??= {};
    paths[spec.path]![spec.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'rdadmin console server (RustDesk Server Pro admin API)',
      version,
      description:
        'Errors are always `{"error": "..."}` with a 4xx status. List endpoints take `current` (from 1) and `pageSize` (1–1000) and answer `{data, total}`.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

export function registerOpenApiRoute(r: RouteTable, version: string): void {
  let text: string | undefined;
  r.add(
    { method: 'GET', path: '/api/openapi.json', tag: 'meta', summary: 'This document.', access: 'public' },
    (c) => {
      // Static while the server runs (every route is registered before the first request): made
      // once, on the first request, not per request (125 KB and about 9 ms each time).
      text ??= JSON.stringify(buildOpenApi(r.specs, version));
      return c.body(text, 200, { 'content-type': 'application/json' });
    },
  );
}
