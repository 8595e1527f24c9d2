// The dashboard's routes (plugins/web.ts): index.html for /app and every /app/… path under a
// strict CSP, hashed assets cached for a year, a 404 (not the page) for a missing asset, a 503
// naming the build command when apps/web is not built, public and listed in the OpenAPI
// document; and the admin inbox routes the console reads (GET /api/admin/webhooks[/:id]).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildTestApp } from './support/app.ts'
import { fullApp } from './support/full-app.ts'
import { WEB_CSP } from '../src/plugins/web.ts'

function fakeDist() {
  const root = mkdtempSync(join(tmpdir(), 'xeno-web-'))
  mkdirSync(join(root, 'assets'))
  writeFileSync(
    join(root, 'index.html'),
    '<!doctype html><script type="module" src="/app/assets/app-abc123.js"></script>',
  )
  writeFileSync(join(root, 'assets', 'app-abc123.js'), 'console.log("app")')
  return root
}

t.test('index.html for every /app path, assets cached, CSP set', async (t) => {
  const root = fakeDist()
  const h = await buildTestApp(t, { deps: { web: { root } } })
  for (const url of [
    '/app',
    '/app/',
    '/app/overview?from=2026-01-01&to=2026-01-31',
    '/app/admin/webhooks',
  ]) {
    const res = await h.app.inject({ method: 'GET', url })
    t.equal(res.statusCode, 200, url)
    t.match(res.headers['content-type'], /text\/html/, `${url} is HTML`)
    t.match(res.body, /app-abc123\.js/, `${url} is the app's index.html`)
    t.equal(res.headers['content-security-policy'], WEB_CSP)
    t.equal(res.headers['cache-control'], 'no-cache', 'the page is revalidated')
  }
  const asset = await h.app.inject({ method: 'GET', url: '/app/assets/app-abc123.js' })
  t.equal(asset.statusCode, 200)
  t.match(asset.headers['content-type'], /javascript/)
  t.match(asset.headers['cache-control'], /max-age=31536000.*immutable/)
  const missing = await h.app.inject({ method: 'GET', url: '/app/assets/nope.js' })
  t.equal(missing.statusCode, 404, 'a missing asset is a 404')
  t.equal(missing.json<{ error: { code: string } }>().error.code, 'NOT_FOUND')
  const escape = await h.app.inject({ method: 'GET', url: '/app/assets/..%2f..%2findex.html' })
  t.not(escape.statusCode, 200, 'no way out of the assets folder')
  t.ok(
    WEB_CSP.includes("script-src 'self'") && !WEB_CSP.includes('unsafe'),
    'no inline script, no eval',
  )
})

t.test('not built: 503 saying how to build', async (t) => {
  const h = await buildTestApp(t, {
    deps: { web: { root: mkdtempSync(join(tmpdir(), 'xeno-empty-')) } },
  })
  const res = await h.app.inject({ method: 'GET', url: '/app/' })
  t.equal(res.statusCode, 503)
  t.ok(res.headers['retry-after'])
  t.match(
    res.json<{ error: { message: string } }>().error.message,
    /pnpm --filter @xeno\/web build/,
  )
})

t.test('the dashboard page is public and in the OpenAPI document, once', async (t) => {
  const h = await buildTestApp(t, { deps: { web: { root: fakeDist() } } })
  const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json<{
    paths: Record<
      string,
      Record<
        string,
        {
          'x-auth'?: string
          tags?: string[]
          responses?: Record<string, { content?: Record<string, unknown> }>
        }
      >
    >
  }>()
  const op = doc.paths['/app']?.get
  t.equal(op?.['x-auth'], 'public', '/app is public')
  t.same(op?.tags, ['web'])
  t.ok(op?.responses?.['200']?.content?.['text/html'], 'declared as an HTML page')
  // Its client-side paths and hashed assets are wildcards, which OpenAPI cannot name.
  t.same(
    Object.keys(doc.paths).filter((p) => p.startsWith('/app/')),
    [],
    'no wildcard path in the document',
  )
})

t.test('admin inbox: failed receipts across tenants, one receipt, validation', async (t) => {
  const h = await fullApp(t)
  const admin = await h.admin()
  const a = await h.tenant('inbox-a')
  const b = await h.tenant('inbox-b')
  const insert = async (tenantId: string, webhookId: string, status: string, at: string) =>
    (
      await h.ownerQuery<{ id: string }>(
        `INSERT INTO webhook_receipts (tenant_id, webhook_id, topic, payload, status, attempts, last_error, received_at)
         VALUES ($1, $2, 'orders/create', '{"id":1}'::json, $3, 5, 'boom', $4) RETURNING id`,
        [tenantId, webhookId, status, at],
      )
    )[0]!.id
  const f1 = await insert(a.id, 'w1', 'failed', '2026-11-01T00:00:00Z')
  const f2 = await insert(b.id, 'w2', 'failed', '2026-11-02T00:00:00Z')
  await insert(a.id, 'w3', 'processed', '2026-11-03T00:00:00Z')

  const list = await h.app.inject({
    method: 'GET',
    url: '/api/admin/webhooks',
    headers: admin.headers,
  })
  t.equal(list.statusCode, 200)
  const rows = list.json<{
    data: { id: string; shop_domain: string; status: string; last_error: string }[]
  }>().data
  t.same(
    rows.map((r) => r.id),
    [f2, f1],
    'failed ones, newest first, across tenants',
  )
  t.same(
    rows.map((r) => r.shop_domain),
    [b.shopDomain, a.shopDomain],
  )
  t.equal(rows[0]!.last_error, 'boom')
  t.notOk('payload' in rows[0]!, 'no payload')
  const page2 = await h.app.inject({
    method: 'GET',
    url: '/api/admin/webhooks?limit=1&before=2026-11-02T00:00:00Z',
    headers: admin.headers,
  })
  t.same(
    page2.json<{ data: { id: string }[] }>().data.map((r) => r.id),
    [f1],
    'before pages back',
  )
  const processed = await h.app.inject({
    method: 'GET',
    url: '/api/admin/webhooks?status=processed',
    headers: admin.headers,
  })
  t.equal(processed.json<{ data: unknown[] }>().data.length, 1)

  const one = await h.app.inject({
    method: 'GET',
    url: `/api/admin/webhooks/${f1}`,
    headers: admin.headers,
  })
  t.equal(one.statusCode, 200)
  t.equal(one.json<{ data: { status: string; attempts: number } }>().data.attempts, 5)
  const unknown = await h.app.inject({
    method: 'GET',
    url: '/api/admin/webhooks/00000000-0000-4000-8000-000000000009',
    headers: admin.headers,
  })
  t.equal(unknown.statusCode, 404)

  const bad = await h.app.inject({
    method: 'GET',
    url: '/api/admin/webhooks?status=lost&limit=0',
    headers: admin.headers,
  })
  t.equal(bad.statusCode, 400)
  const fields = bad
    .json<{ error: { fields: { field: string }[] } }>()
    .error.fields.map((f) => f.field)
  t.ok(
    fields.some((f) => f.endsWith('.status')) && fields.some((f) => f.endsWith('.limit')),
    `fields named: ${fields.join(', ')}`,
  )

  const owner = await h.user(a.id, { role: 'owner' })
  const refused = await h.app.inject({
    method: 'GET',
    url: '/api/admin/webhooks',
    headers: owner.basic,
  })
  t.equal(refused.statusCode, 401, 'tenant credentials do not open the inbox')
})
