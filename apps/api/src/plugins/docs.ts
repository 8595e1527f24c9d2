// OpenAPI 3.1 from the zod route schemas (@fastify/swagger + fastify-type-provider-zod) at
// /docs/json, browsable with Swagger UI at /docs. Each operation gets its security requirement
// from the route's `config.auth` and the error envelope of plugins/errors.ts for its error codes.
import type { FastifyInstance, RouteOptions } from 'fastify'
import fastifySwagger, { type FastifyDynamicSwaggerOptions } from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { ADMIN_COOKIE, TENANT_COOKIE } from './auth.ts'

export const DOCS_PREFIX = '/docs'

/** The security schemes every operation refers to by name. */
export const SECURITY_SCHEMES = {
  adminCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: ADMIN_COOKIE,
    description:
      'Admin session from POST /api/admin/login. State-changing requests must be JSON and same-origin (Origin = APP_URL).',
  },
  tenantSession: {
    type: 'apiKey',
    in: 'cookie',
    name: TENANT_COOKIE,
    description:
      "A tenant user's session from POST /api/tenant/login (same CSRF rule as the admin cookie).",
  },
  basicAuth: {
    type: 'http',
    scheme: 'basic',
    description:
      'username:password of a user of the tenant named in the path (`:id`); only on /api/tenants/:id/… routes.',
  },
  apiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: "A tenant's API key (`xeno_…`, POST /api/tenants/:id/api-keys); acts as a viewer.",
  },
  shopifyWebhookHmac: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Shopify-Hmac-Sha256',
    description:
      'base64 HMAC-SHA256 of the raw body with the app client secret (Shopify signs webhooks).',
  },
  shopifyOAuthHmac: {
    type: 'apiKey',
    in: 'query',
    name: 'hmac',
    description:
      'hex HMAC-SHA256 of the sorted query string with the app client secret (Shopify signs install redirects).',
  },
  metricsBearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'METRICS_TOKEN, required by GET /metrics when that variable is set.',
  },
} as const

type Auth = NonNullable<RouteOptions['config']>['auth']

/** Who may call a route, as an OpenAPI security requirement (alternatives are OR-ed). */
export function securityOf(auth: Auth, url: string): Record<string, string[]>[] {
  switch (auth) {
    case 'admin':
      return [{ adminCookie: [] }]
    case 'tenant':
      return url.includes('/:id')
        ? [{ adminCookie: [] }, { tenantSession: [] }, { basicAuth: [] }, { apiKey: [] }]
        : [{ adminCookie: [] }, { tenantSession: [] }, { apiKey: [] }]
    case 'api-key':
      return [{ apiKey: [] }]
    case 'shopify-webhook':
      return [{ shopifyWebhookHmac: [] }]
    case 'shopify-oauth':
      return [{}, { shopifyOAuthHmac: [] }]
    case 'public':
    case undefined:
      return []
  }
}

const envelope = (description: string, codes: string) =>
  z
    .object({
      error: z.object({
        code: z.string().describe(codes),
        message: z.string(),
        fields: z
          .array(z.object({ field: z.string(), message: z.string() }))
          .optional()
          .describe('Present on validation errors: each bad field, e.g. `body.shop_domain`.'),
      }),
    })
    .describe(description)

/** The error envelope (plugins/errors.ts) for the statuses a route of each kind can answer. */
const ERRORS: Record<number, z.ZodType> = {
  400: envelope(
    'Bad input: the fields named in `error.fields`.',
    'VALIDATION_ERROR, INVALID_JSON, BAD_REQUEST, …',
  ),
  401: envelope('Missing or invalid credentials.', 'UNAUTHORIZED, INVALID_CREDENTIALS'),
  403: envelope(
    'Authenticated but not allowed (role, or a cross-site cookie request).',
    'FORBIDDEN, OWNER_REQUIRED, CSRF_REJECTED',
  ),
  404: envelope(
    'Not found; also what a credential of another tenant gets (never 403).',
    'NOT_FOUND',
  ),
  414: envelope('A path parameter is longer than the router accepts.', 'URI_TOO_LONG'),
  429: envelope('Too many attempts; see Retry-After.', 'RATE_LIMITED'),
  503: envelope(
    'Overloaded: no turn or database connection was free in time; see Retry-After.',
    'SERVER_BUSY, DATABASE_BUSY, SERVICE_UNAVAILABLE',
  ),
  500: envelope('Unexpected server error (details are only in the logs).', 'INTERNAL_ERROR'),
}

function errorStatuses(auth: Auth, url: string): number[] {
  const s = [400, 500]
  if (auth !== 'public' && auth !== undefined) s.push(401)
  if (auth === 'admin' || auth === 'tenant') s.push(403)
  if (url.includes('/:') && auth !== 'public' && auth !== undefined) s.push(404)
  if (url.includes('/:')) s.push(414)
  if (/\/login$|\/bootstrap$/.test(url) || (auth === 'tenant' && url.includes('/:id'))) s.push(429)
  return s
}

const zodTransform = createJsonSchemaTransform({ skipList: [] })
type TransformInput = Parameters<typeof zodTransform>[0]

/**
 * A deterministic operationId from the method and the route pattern, so every operation has one
 * without each route naming itself: `GET /api/tenants/:id/metrics/revenue` →
 * `getTenantsByIdMetricsRevenue` (`/api` dropped, `:param` → `ByParam`, kebab-case joined). A
 * route may still set `schema.operationId` itself; that one wins.
 */
export function operationIdOf(method: string, url: string): string {
  const cap = (w: string) => (w ? w[0]!.toUpperCase() + w.slice(1) : '')
  const words = url
    .replace(/^\/api(?=\/|$)/, '')
    .split('/')
    .filter(Boolean)
    .map((segment) =>
      segment.startsWith(':')
        ? `By${cap(segment.slice(1))}`
        : segment
            .split(/[^A-Za-z0-9]+/)
            .map(cap)
            .join(''),
    )
  return `${method.toLowerCase()}${words.join('')}`
}

/** Adds security and error responses from the route's config, then converts zod to JSON Schema. */
function transform(doc: TransformInput) {
  const route = (doc as { route?: RouteOptions }).route
  const auth = route?.config?.auth
  const schema: Record<string, unknown> = { ...doc.schema }
  if (schema.hide) return zodTransform(doc)
  const response: Record<string, unknown> = {
    ...(schema.response as Record<string, unknown> | undefined),
  }
  for (const status of errorStatuses(auth, doc.url)) response[status] ??= ERRORS[status]
  // Admission-controlled routes refuse overload: their caller's share (429) or the process (503).
  if (route?.config?.admission) for (const status of [429, 503]) response[status] ??= ERRORS[status]
  schema.response = response
  if (!('security' in schema)) schema.security = securityOf(auth, doc.url)
  schema['x-auth'] = auth ?? 'none'
  // A plugin's root route is registered as `/prefix/` (Fastify also answers `/prefix`): the
  // document names the path without the trailing slash.
  const url = doc.url.length > 1 ? doc.url.replace(/\/+$/, '') : doc.url
  const method = Array.isArray(route?.method) ? route.method[0] : route?.method
  schema.operationId ??= operationIdOf(String(method ?? 'get'), url)
  const out = { ...zodTransform({ ...doc, schema }), url }
  // Redirects answer no body: a Location header instead of content.
  const responses = (out.schema as { response?: Record<string, Record<string, unknown>> }).response
  for (const [status, r] of Object.entries(responses ?? {}))
    if (/^3\d\d$/.test(status)) {
      r.type = 'null'
      r.headers ??= { location: { type: 'string', description: 'Where to go next' } }
    }
  // @fastify/swagger turns a querystring's `properties` into parameters; a free-form record
  // (e.g. Shopify's signed callback query) has none and would become an invalid parameter.
  const converted = out.schema as { querystring?: { properties?: unknown }; description?: string }
  if (converted.querystring && !converted.querystring.properties) {
    delete converted.querystring
    converted.description =
      `${converted.description ?? ''}\n\nQuery: free-form key/value pairs (all of them are covered by the signature).`.trim()
  }
  return out
}

type Document = {
  paths?: Record<string, Record<string, { security?: Record<string, string[]>[] }>>
  components?: { securitySchemes?: Record<string, unknown> }
}

/**
 * zod writes `z.unknown().nullable()` as `anyOf: [{}, {type: 'null'}]`; the empty branch already
 * admits anything, so the anyOf says nothing (and linters flag it): keep the schema, drop it.
 */
function dropVacuousAnyOf(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(dropVacuousAnyOf)
  if (!node || typeof node !== 'object') return
  const o = node as Record<string, unknown>
  if (
    Array.isArray(o.anyOf) &&
    (o.anyOf as unknown[]).some(
      (branch) => !!branch && typeof branch === 'object' && !Object.keys(branch).length,
    )
  )
    delete o.anyOf
  for (const value of Object.values(o)) dropVacuousAnyOf(value)
}

/**
 * zod's components, then the security schemes no operation uses left out (which ones are used
 * depends on the configuration: the metrics bearer only exists with METRICS_TOKEN).
 */
function transformObject(input: Parameters<typeof jsonSchemaTransformObject>[0]) {
  const doc = jsonSchemaTransformObject(input) as Document
  dropVacuousAnyOf(doc)
  const schemes = doc.components?.securitySchemes
  if (schemes) {
    const used = new Set<string>()
    for (const item of Object.values(doc.paths ?? {}))
      for (const op of Object.values(item))
        for (const requirement of op.security ?? [])
          for (const name of Object.keys(requirement)) used.add(name)
    doc.components!.securitySchemes = Object.fromEntries(
      Object.entries(schemes).filter(([name]) => used.has(name)),
    )
  }
  return doc as ReturnType<typeof jsonSchemaTransformObject>
}

const DESCRIPTION = `Multi-tenant Shopify ingestion and analytics.

Every success answers \`{ "data": … }\`; every error answers the envelope
\`{ "error": { "code", "message", "fields"? } }\`. Each operation lists who may call it
(\`security\`, and \`x-auth\`: public, admin, tenant, api-key, shopify-webhook, shopify-oauth).
Tenant routes take the tenant in \`:id\`; a credential of another tenant gets 404.`

/**
 * Registers @fastify/swagger at the root (it must see every route, so call this before any route
 * is registered) and Swagger UI under /docs. The UI's own routes are public (an onRoute hook
 * scoped to them sets `config.auth`); only /docs/json and /docs/yaml are in the document.
 */
export async function registerDocs(app: FastifyInstance, options: { appUrl?: string } = {}) {
  const swaggerOptions: FastifyDynamicSwaggerOptions = {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Xeno API', version: '0.1.0', description: DESCRIPTION },
      servers: options.appUrl ? [{ url: options.appUrl }] : [],
      components: { securitySchemes: SECURITY_SCHEMES },
      tags: [
        { name: 'ops', description: 'Health, metrics, documentation' },
        { name: 'queues', description: 'Bull Board (admin only)' },
        { name: 'docs', description: 'This document and its UI' },
      ],
    },
    transform,
    transformObject,
  }
  await app.register(fastifySwagger, swaggerOptions)
  await app.register(async (scope) => {
    scope.addHook('onRoute', (route) => {
      route.config = { ...route.config, auth: 'public' }
      // The document lists itself; the UI's page, redirect and static assets are not API.
      const json = route.url.endsWith('/json')
      const yaml = route.url.endsWith('/yaml')
      route.schema = {
        ...route.schema,
        hide: !json && !yaml,
        tags: ['docs'],
        summary: json ? 'This OpenAPI 3.1 document (JSON)' : 'This OpenAPI 3.1 document (YAML)',
        ...(json || yaml
          ? {
              response: {
                200: {
                  description: `The OpenAPI 3.1 document as ${json ? 'JSON' : 'YAML'}`,
                  content: {
                    [json ? 'application/json' : 'application/x-yaml']: {
                      schema: json ? z.looseObject({ openapi: z.string() }) : z.string(),
                    },
                  },
                },
              },
            }
          : {}),
      }
    })
    await scope.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX })
  })
}
