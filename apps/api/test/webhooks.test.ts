import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { Queue } from 'bullmq'
import { createLogger } from '@xeno/logger'
import { createProducer, createRedis } from '@xeno/queues'
import { testQueuePrefix, testRedisUrl } from '@xeno/queues/testing'
import {
  createHealthService,
  createWebhookApi,
  createWebhookReceiptRepository,
  createWebhookSweeper,
} from '@xeno/core'
import { createDb } from '@xeno/db'
import { buildApp } from '../src/app.ts'
import { buildTestApp } from './support/app.ts'
import type { App } from '../src/app.ts'
import { loadSamples, signedHeaders } from './support/webhooks.ts'

const logger = createLogger({ level: 'silent' })

async function setup(t: Test, opts: { redisUrl?: string } = {}) {
  const samples = await loadSamples()
  const prefix = testQueuePrefix()
  const redis = createRedis(opts.redisUrl ?? testRedisUrl(), 'producer', () => {})
  const producer = createProducer({ connection: redis, prefix })
  t.teardown(async () => {
    await producer.close()
    redis.disconnect()
  })
  const h = await buildTestApp(t, {
    deps: ({ db }) => ({
      webhooks: createWebhookApi({ db, producer, secrets: [samples.secret], logger }),
    }),
  })
  const tenant = await h.tenant(samples.shopDomain)
  const queue = new Queue('webhooks', { connection: redis, prefix })
  t.teardown(() => queue.close())
  return { h, samples, tenant, queue, producer, redis }
}

const post = (
  h: { app: App },
  topic: string,
  body: Buffer | string,
  headers: Record<string, string>,
) => h.app.inject({ method: 'POST', url: `/api/webhooks/${topic}`, headers, payload: body })

t.test('official samples are accepted, stored once and enqueued with the receipt id', async (t) => {
  const { h, samples, tenant, queue } = await setup(t)
  await new Promise((r) => setTimeout(r, 100))
  // The published destructive samples name a placeholder shop ("{shop}.myshopify.com", or no
  // myshopify_domain): they do not prove they are the header shop's own, so they are refused.
  const destructive = new Set([
    'app/uninstalled',
    'shop/redact',
    'customers/redact',
    'customers/data_request',
  ])
  let refused = 0
  for (const d of samples.deliveries) {
    const res = await post(h, d.topic, d.body, d.headers)
    if (destructive.has(d.topic)) {
      refused++
      t.equal(res.statusCode, 400, `${d.file} refused`)
      t.match(res.json().error.fields[0].field, /^body\.(shop_domain|myshopify_domain)$/)
      continue
    }
    t.equal(res.statusCode, 200, `${d.file} accepted`)
    t.same(res.json(), { data: { status: 'accepted' } })
  }
  t.equal(refused, 4)
  const stored = samples.deliveries.length - refused
  const rows = await h.ownerQuery<{
    id: string
    topic: string
    webhook_id: string
    status: string
  }>('SELECT id, topic, webhook_id, status FROM webhook_receipts WHERE tenant_id = $1', [tenant.id])
  t.equal(rows.length, stored, 'one receipt per accepted delivery')
  for (const r of rows) {
    const job = await queue.getJob(r.id)
    t.ok(job, `job for receipt ${r.topic}`)
    t.same(job?.data.receiptId, r.id)
  }
  // The stored payload keeps the sample's 18-digit ids exactly.
  const [order] = await h.ownerQuery<{ id: string }>(
    `SELECT payload->>'id' AS id FROM webhook_receipts WHERE tenant_id = $1 AND topic = 'orders/create'`,
    [tenant.id],
  )
  t.equal(order?.id, '820982911946154508')

  // A redelivery (same X-Shopify-Webhook-Id) does nothing more.
  const first = samples.deliveries[0]!
  const again = await post(h, first.topic, first.body, first.headers)
  t.equal(again.statusCode, 200)
  t.same(again.json(), { data: { status: 'duplicate' } })
  const count = await h.ownerQuery<{ n: number }>('SELECT count(*)::int AS n FROM webhook_receipts')
  t.equal(count[0]?.n, stored)
  t.equal(await queue.count(), stored)
})

t.test('forged, missing or body-altered signatures get 401 and store nothing', async (t) => {
  const { h, samples } = await setup(t)
  const d = samples.deliveries.find((x) => x.topic === 'customers/redact')!
  const cases: [string, Buffer, Record<string, string>][] = [
    [
      'forged',
      d.body,
      { ...d.headers, 'x-shopify-hmac-sha256': Buffer.alloc(32, 7).toString('base64') },
    ],
    [
      'wrong secret',
      d.body,
      signedHeaders(d.topic, d.body, 'not-the-secret', samples.shopDomain, randomUUID()),
    ],
    ['altered body', Buffer.concat([d.body.subarray(0, -2), Buffer.from(' }')]), d.headers],
    [
      'missing hmac',
      d.body,
      Object.fromEntries(Object.entries(d.headers).filter(([k]) => k !== 'x-shopify-hmac-sha256')),
    ],
    [
      'missing webhook id',
      d.body,
      Object.fromEntries(Object.entries(d.headers).filter(([k]) => k !== 'x-shopify-webhook-id')),
    ],
  ]
  for (const [name, body, headers] of cases) {
    const res = await post(h, d.topic, body, headers)
    t.equal(res.statusCode, 401, name)
    t.equal(res.json().error.code, 'INVALID_WEBHOOK', `${name} code`)
  }
  const rows = await h.ownerQuery('SELECT 1 FROM webhook_receipts')
  t.equal(rows.length, 0, 'nothing stored')
})

t.test('topic mismatch, unknown topic, unknown shop, bad JSON and huge bodies', async (t) => {
  const { h, samples } = await setup(t)
  const body = Buffer.from('{"id": 1}')
  // Signed, but the path says another topic.
  let res = await post(
    h,
    'orders/create',
    body,
    signedHeaders('orders/updated', body, samples.secret, samples.shopDomain, randomUUID()),
  )
  t.equal(res.statusCode, 400)
  t.match(res.json().error.fields[0].field, 'x-shopify-topic')
  res = await post(
    h,
    'carts/create',
    body,
    signedHeaders('carts/create', body, samples.secret, samples.shopDomain, randomUUID()),
  )
  t.equal(res.statusCode, 400, 'unsupported topic')
  res = await post(
    h,
    'orders/create',
    body,
    signedHeaders(
      'orders/create',
      body,
      samples.secret,
      'someone-else.myshopify.com',
      randomUUID(),
    ),
  )
  t.equal(res.statusCode, 200, 'unknown shop acknowledged so Shopify stops retrying')
  t.same(res.json(), { data: { status: 'ignored' } })
  const bad = Buffer.from('{"id": ')
  res = await post(
    h,
    'orders/create',
    bad,
    signedHeaders('orders/create', bad, samples.secret, samples.shopDomain, randomUUID()),
  )
  t.equal(res.statusCode, 400, 'signed but not JSON')
  // A raw NUL byte: not JSON either, and Postgres refuses it in any text (22021), not an outage.
  const nul = Buffer.from('{"id": 1, "note": "a\u0000b"}')
  res = await post(
    h,
    'orders/create',
    nul,
    signedHeaders('orders/create', nul, samples.secret, samples.shopDomain, randomUUID()),
  )
  t.equal(res.statusCode, 400, 'signed, with a raw NUL byte')
  t.match(res.json(), { error: { fields: [{ field: 'body' }] } }, 'the body is at fault')
  // A triggered-at time JavaScript reads but Postgres cannot hold (before 4713 BC).
  const ok = Buffer.from('{"id": 3}')
  res = await post(
    h,
    'orders/create',
    ok,
    signedHeaders('orders/create', ok, samples.secret, samples.shopDomain, randomUUID(), {
      'x-shopify-triggered-at': '-271821-04-20T00:00:00.000Z',
    }),
  )
  t.equal(res.statusCode, 400, 'triggered-at out of range')
  t.match(
    res.json(),
    { error: { fields: [{ field: 'headers.x-shopify-triggered-at' }] } },
    'the header is at fault',
  )
  const huge = Buffer.from(JSON.stringify({ id: 1, line_items: 'x'.repeat(6 * 1024 * 1024) }))
  res = await post(
    h,
    'orders/create',
    huge,
    signedHeaders('orders/create', huge, samples.secret, samples.shopDomain, randomUUID()),
  )
  t.equal(res.statusCode, 413)
  // A large but legitimate order (hundreds of line items) fits.
  const big = Buffer.from(
    JSON.stringify({
      id: 2,
      line_items: Array.from({ length: 500 }, (_, i) => ({ id: i, title: 'x'.repeat(500) })),
    }),
  )
  res = await post(
    h,
    'orders/create',
    big,
    signedHeaders('orders/create', big, samples.secret, samples.shopDomain, randomUUID()),
  )
  t.equal(res.statusCode, 200)
  const rows = await h.ownerQuery('SELECT 1 FROM webhook_receipts')
  t.equal(rows.length, 1, 'only the legitimate large order was stored')
})

t.test('Redis down: still 200 once stored; the sweeper enqueues it later', async (t) => {
  // Nothing listens on port 1: the producer fails fast.
  const { h, samples, tenant } = await setup(t, { redisUrl: 'redis://127.0.0.1:1' })
  const body = Buffer.from('{"id": 5, "admin_graphql_api_id": "gid://shopify/Product/5"}')
  const res = await post(
    h,
    'products/delete',
    body,
    signedHeaders('products/delete', body, samples.secret, samples.shopDomain, randomUUID()),
  )
  t.equal(res.statusCode, 200)
  const [row] = await h.ownerQuery<{ id: string; status: string; enqueued_at: Date | null }>(
    'SELECT id, status, enqueued_at FROM webhook_receipts WHERE tenant_id = $1',
    [tenant.id],
  )
  t.equal(row?.status, 'received')

  // Redis is back: a sweeper with a working producer picks it up.
  const prefix = testQueuePrefix()
  const redis = createRedis(testRedisUrl(), 'producer', () => {})
  const producer = createProducer({ connection: redis, prefix })
  t.teardown(async () => {
    await producer.close()
    redis.disconnect()
  })
  await new Promise((r) => setTimeout(r, 100))
  // The sweeper runs in the worker, as the system role.
  const sweeper = createWebhookSweeper({
    receipts: createWebhookReceiptRepository(h.systemDb),
    producer,
    logger,
  })
  t.same(await sweeper.sweep(0), { enqueued: 1, retried: 0 })
  const q = new Queue('webhooks', { connection: redis, prefix })
  t.teardown(() => q.close())
  t.ok(await q.getJob(row!.id), 'job enqueued under the receipt id')
  t.same(await sweeper.sweep(0), { enqueued: 0, retried: 0 }, 'not twice')
})

t.test('admin replay of a failed receipt; compliance requests are owner-only', async (t) => {
  const { h, samples, tenant, queue } = await setup(t)
  const body = Buffer.from('{"id": 9}')
  await post(
    h,
    'products/delete',
    body,
    signedHeaders('products/delete', body, samples.secret, samples.shopDomain, randomUUID()),
  )
  const [row] = await h.ownerQuery<{ id: string }>('SELECT id FROM webhook_receipts')
  await h.ownerQuery(`UPDATE webhook_receipts SET status = 'failed', last_error = 'boom'`)
  const viewer = await h.user(tenant.id)
  const anon = await h.app.inject({
    method: 'POST',
    url: `/api/admin/webhooks/${row!.id}/replay`,
    headers: { origin: 'http://127.0.0.1:3000' },
  })
  t.equal(anon.statusCode, 401)
  const admin = await h.admin()
  const res = await h.app.inject({
    method: 'POST',
    url: `/api/admin/webhooks/${row!.id}/replay`,
    headers: admin.headers,
    payload: {},
  })
  t.equal(res.statusCode, 202)
  const [after] = await h.ownerQuery<{ status: string }>('SELECT status FROM webhook_receipts')
  t.equal(after?.status, 'received')
  t.equal(await queue.count(), 2, 'a fresh job next to the original')
  const missing = await h.app.inject({
    method: 'POST',
    url: `/api/admin/webhooks/${randomUUID()}/replay`,
    headers: admin.headers,
    payload: {},
  })
  t.equal(missing.statusCode, 404)

  const asViewer = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}/compliance/requests`,
    headers: viewer.basic,
  })
  t.equal(asViewer.statusCode, 403)
  const owner = await h.user(tenant.id, { role: 'owner' })
  const asOwner = await h.app.inject({
    method: 'GET',
    url: `/api/tenants/${tenant.id}/compliance/requests`,
    headers: owner.basic,
  })
  t.equal(asOwner.statusCode, 200)
  t.same(asOwner.json(), { data: [] })
})

t.test('Postgres down: 503 so Shopify retries, nothing acknowledged', async (t) => {
  const samples = await loadSamples()
  const { db } = createDb({ url: 'postgres://xeno_app@127.0.0.1:1/none', applicationName: 't' })
  t.teardown(() => db.destroy())
  const redis = createRedis(testRedisUrl(), 'producer', () => {})
  const producer = createProducer({ connection: redis, prefix: testQueuePrefix() })
  t.teardown(async () => {
    await producer.close()
    redis.disconnect()
  })
  const app = await buildApp({
    logger,
    health: createHealthService({ pingDb: async () => false, pingRedis: async () => true }),
    webhooks: createWebhookApi({ db, producer, secrets: [samples.secret], logger }),
  })
  t.teardown(() => app.close())
  const d = samples.deliveries[0]!
  const res = await app.inject({
    method: 'POST',
    url: `/api/webhooks/${d.topic}`,
    headers: d.headers,
    payload: d.body,
  })
  t.equal(res.statusCode, 503)
  t.equal(res.json().error.code, 'SERVICE_UNAVAILABLE')
  t.notMatch(res.body, /ECONNREFUSED|at .+\.ts/, 'no internals leak')
})
