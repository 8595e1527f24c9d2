// /docs/json is a valid OpenAPI 3.1 document (checked by a real validator) that lists every route
// the app registers, each with its security requirement and the error envelope; /docs serves the
// browsable UI without credentials.
import t from 'tap'
import { Validator } from '@seriousme/openapi-schema-validator'
import { buildTestApp } from './support/app.ts'
import { fullApp } from './support/full-app.ts'
import { securityOf } from '../src/plugins/docs.ts'

const methodsOf = (m: string | string[]) => (Array.isArray(m) ? m : [m])
/** Fastify's `/a/:id` as OpenAPI's `/a/{id}` (a plugin root's trailing slash dropped). */
const openapiPath = (url: string) =>
  url.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/(.)\/+$/, '$1') || '/'

type Operation = {
  security?: Record<string, string[]>[]
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>
  'x-auth'?: string
}
type Doc = {
  openapi: string
  paths: Record<string, Record<string, Operation>>
  components: { securitySchemes: Record<string, unknown> }
}

t.test('/docs/json: valid OpenAPI 3.1 listing every registered route', async (t) => {
  // Every feature wired (webhooks, install, analytics, ingest, Bull Board): every route.
  const h = await fullApp(t)
  const res = await h.app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(res.statusCode, 200)
  const raw = res.json<Record<string, unknown>>()
  const doc = raw as unknown as Doc
  t.equal(doc.openapi, '3.1.0')

  const validator = new Validator()
  const result = await validator.validate(structuredClone(raw))
  t.same(result.errors, undefined, 'no validation errors')
  t.equal(result.valid, true, 'the validator accepts the document')
  t.equal(validator.version, '3.1', 'validated as OpenAPI 3.1')

  // Only the schemes some operation uses (the metrics bearer needs METRICS_TOKEN).
  t.same(Object.keys(doc.components.securitySchemes).sort(), [
    'adminCookie',
    'apiKey',
    'basicAuth',
    'shopifyOAuthHmac',
    'shopifyWebhookHmac',
    'tenantSession',
  ])
  for (const path of Object.keys(doc.paths)) {
    t.notMatch(path, /\{\*\}|.\/$/, `${path}: no wildcard, no trailing slash`)
    t.notMatch(
      path,
      /^\/admin\/queues\/|^\/docs\/static/,
      `${path}: no Bull Board or Swagger UI internal`,
    )
  }

  let checked = 0
  for (const route of h.routes)
    for (const method of methodsOf(route.method)) {
      // Fastify's HEAD twin of a GET route (of `/prefix/` for a plugin's root route `/prefix`)
      const hasGet = h.routes.some(
        (r) =>
          (r.url === route.url || r.url === `${route.url}/`) && methodsOf(r.method).includes('GET'),
      )
      if (method === 'HEAD' && hasGet) continue
      // Bull Board's API and assets and Swagger UI's page and assets are hidden on purpose.
      if (route.schema?.hide) continue
      const key = `${method} ${route.url}`
      const op = doc.paths[openapiPath(route.url)]?.[method.toLowerCase()]
      if (!op) {
        t.fail(`${key} is missing from the document`)
        continue
      }
      checked++
      const auth = route.config?.auth
      t.ok(auth, `${key} declares config.auth`)
      t.equal(op['x-auth'], auth, `${key}: x-auth names its auth`)
      if (route.url !== '/metrics')
        t.same(op.security, securityOf(auth, route.url), `${key}: security matches config.auth`)
      t.ok(op.responses['400'], `${key}: 400 described`)
      t.ok(op.responses['500'], `${key}: 500 described`)
      if (auth !== 'public') t.ok(op.responses['401'], `${key}: 401 described`)
      const envelope = op.responses['500']?.content?.['application/json']?.schema as
        { properties?: { error?: { properties?: Record<string, unknown> } } } | undefined
      t.ok(envelope?.properties?.error?.properties?.code, `${key}: 500 uses the error envelope`)
    }
  t.ok(checked >= 35, `checked ${checked} operations`)
  // Spot checks of the mapping from config.auth.
  t.same(doc.paths['/api/tenants/{id}/metrics/revenue']?.get?.security, [
    { adminCookie: [] },
    { tenantSession: [] },
    { basicAuth: [] },
    { apiKey: [] },
  ])
  t.same(doc.paths['/api/admin/me']?.get?.security, [{ adminCookie: [] }])
  t.same(doc.paths['/api/events']?.post?.security, [{ apiKey: [] }])
  t.ok(doc.paths['/admin/queues']?.get?.responses['200']?.content?.['text/html'], 'the board: HTML')
  t.notOk(doc.paths['/admin/queues/api/queues'], "Bull Board's JSON API is not Xeno's API")
  t.same(
    Object.keys(doc.paths['/api/shopify/install']?.get?.responses ?? {}).filter((s) => s < '400'),
    ['302'],
  )
  t.ok(doc.paths['/api/shopify/installed']?.get?.responses['200']?.content?.['text/html'])
  t.ok(doc.paths['/docs/json']?.get, 'the document lists itself')
})

t.test('/docs serves Swagger UI to anyone', async (t) => {
  const h = await buildTestApp(t)
  const res = await h.app.inject({ method: 'GET', url: '/docs' })
  if (res.statusCode === 302) {
    const next = await h.app.inject({ method: 'GET', url: res.headers.location as string })
    t.equal(next.statusCode, 200)
    t.match(next.body, /swagger-ui/i)
  } else {
    t.equal(res.statusCode, 200)
    t.match(res.body, /swagger-ui/i)
  }
  const css = await h.app.inject({ method: 'GET', url: '/docs/static/swagger-ui.css' })
  t.equal(css.statusCode, 200, 'UI assets are public')
})
