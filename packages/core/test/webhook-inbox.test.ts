// Group commit of the webhook inbox, on the real Postgres and Redis: concurrent deliveries share
// one transaction and one enqueue, yet each acknowledged delivery is stored exactly once, in its
// own tenant, and a failed transaction acknowledges none of its deliveries.
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { createTestDatabase } from '@xeno/db/testing'
import { withTenant } from '@xeno/db'
import { createLogger } from '@xeno/logger'
import { createProducer, createRedis } from '@xeno/queues'
import { dropQueueKeys, testQueuePrefix, testRedisUrl } from '@xeno/queues/testing'
import { webhookHmac } from '@xeno/shopify'
import { ExternalServiceError, ValidationError } from '../src/errors.ts'
import { createWebhookInbox } from '../src/webhooks/webhook-inbox.service.ts'
import { createWebhookIntakeService } from '../src/webhooks/webhook-intake.service.ts'
import {
  createWebhookReceiptRepository,
  type NewReceipt,
} from '../src/webhooks/webhook-receipt.repository.ts'

const logger = createLogger({ level: 'silent' })
const SECRET = 'inbox-secret'

async function setup(t: Test) {
  const tdb = await createTestDatabase()
  t.teardown(tdb.close)
  const q = tdb.ownerQuery
  const tenant = async (shop: string) =>
    (
      await q<{ id: string }>(
        `INSERT INTO tenants (shop_domain, status) VALUES ($1, 'active') RETURNING id`,
        [shop],
      )
    )[0]!.id
  const prefix = testQueuePrefix()
  const redis = createRedis(testRedisUrl(), 'producer', () => {})
  await new Promise((r) => redis.once('ready', r))
  const producer = createProducer({ connection: redis, prefix })
  const queue = producer.queue('webhooks')
  t.teardown(async () => {
    await producer.close()
    await dropQueueKeys(redis, prefix)
    redis.disconnect()
  })
  const repo = createWebhookReceiptRepository(tdb.db)
  // Counts the transactions the inbox opens (the point of group commit).
  const batches: number[] = []
  const receipts = {
    insertMany: (rows: readonly NewReceipt[]) => {
      batches.push(rows.length)
      return repo.insertMany(rows)
    },
  }
  const inbox = createWebhookInbox({ receipts, producer, logger })
  const tenantIds = new Map<string, string>()
  const intake = createWebhookIntakeService({
    receipts,
    producer,
    inbox,
    secrets: [SECRET],
    findTenantByShop: async (shop) => {
      const id = tenantIds.get(shop)
      return id ? { id, status: 'active' } : undefined
    },
    logger,
  })
  const deliver = (shop: string, webhookId: string, body: string, requestId?: string) =>
    intake.receive(
      'orders/create',
      {
        hmac: webhookHmac(body, SECRET),
        topic: 'orders/create',
        shopDomain: shop,
        webhookId,
        apiVersion: '2026-07',
        eventId: undefined,
        triggeredAt: undefined,
      },
      Buffer.from(body),
      requestId,
    )
  return { tdb, q, tenant, tenantIds, inbox, intake, deliver, batches, queue, producer }
}

const receipt = (tenantId: string, webhookId: string, payloadText: string): NewReceipt => ({
  tenantId,
  webhookId,
  eventId: null,
  topic: 'orders/create',
  apiVersion: '2026-07',
  triggeredAt: null,
  payloadText,
})

t.test('200 concurrent deliveries with redeliveries: each stored once and enqueued', async (t) => {
  const s = await setup(t)
  const shop = 'burst-store.myshopify.com'
  s.tenantIds.set(shop, await s.tenant(shop))
  // 150 distinct webhooks; 50 of them delivered a second time within the same burst.
  const ids = Array.from({ length: 150 }, () => randomUUID())
  const sends = [...ids, ...ids.slice(0, 50)].map((id, i) => ({ id, rid: `req-${i}` }))
  const results = await Promise.all(
    sends.map(({ id, rid }) => s.deliver(shop, id, JSON.stringify({ id: 1, webhook: id }), rid)),
  )
  const outcomes = results.map((r) => r.outcome)
  t.equal(outcomes.filter((o) => o === 'accepted').length, 150, 'one acceptance per webhook')
  t.equal(outcomes.filter((o) => o === 'duplicate').length, 50, 'redeliveries are duplicates')
  t.ok(s.batches.length < sends.length, `shared transactions (${s.batches.length})`)
  t.ok(Math.max(...s.batches) <= 64, 'no transaction holds more than the batch limit')

  const rows = await s.q<{ id: string; webhook_id: string; payload: { webhook: string } }>(
    'SELECT id, webhook_id, payload FROM webhook_receipts',
  )
  t.equal(rows.length, 150, 'one receipt per webhook id')
  t.same(new Set(rows.map((r) => r.webhook_id)), new Set(ids))
  t.ok(
    rows.every((r) => r.payload.webhook === r.webhook_id),
    'each row holds its own body',
  )
  // Both deliveries of one webhook name the same receipt.
  const receiptOf = new Map<string, string>()
  results.forEach((r, i) => {
    const id = 'receiptId' in r ? r.receiptId : ''
    const prev = receiptOf.get(sends[i]!.id)
    if (prev) t.equal(id, prev, 'a redelivery answers with the stored receipt')
    else receiptOf.set(sends[i]!.id, id)
  })
  for (const [i, r] of results.entries()) {
    if (r.outcome !== 'accepted') continue
    t.ok(r.enqueued, 'enqueued before the answer')
    const job = await s.queue.getJob(r.receiptId)
    t.equal(job?.data.receiptId, r.receiptId, `job for ${sends[i]!.id}`)
    t.equal(job?.data.requestId, `req-${i}`, 'carrying the request id of the stored delivery')
  }
  t.equal(await s.queue.count(), 150, 'one job per receipt')
})

t.test('one transaction with two tenants keeps each row in its own tenant', async (t) => {
  const s = await setup(t)
  const a = await s.tenant('tenant-a.myshopify.com')
  const b = await s.tenant('tenant-b.myshopify.com')
  const shared = randomUUID() // the same webhook id in both tenants: two receipts
  const pending = [
    s.inbox.submit(receipt(a, shared, '{"shop":"a"}')),
    s.inbox.submit(receipt(b, shared, '{"shop":"b"}')),
    s.inbox.submit(receipt(a, randomUUID(), '{"shop":"a"}')),
    s.inbox.submit(receipt(b, randomUUID(), '{"shop":"b"}')),
  ]
  const results = await Promise.all(pending)
  t.same(s.batches, [4], 'submitted together, committed together')
  t.ok(results.every((r) => r.created && r.enqueued))

  const owned = await s.q<{ tenant_id: string; shop: string }>(
    `SELECT tenant_id, payload->>'shop' AS shop FROM webhook_receipts`,
  )
  for (const r of owned) t.equal(r.tenant_id, r.shop === 'a' ? a : b, 'row in its tenant')
  for (const [tenantId, shop] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    const visible = await withTenant(s.tdb.db, tenantId, (trx) =>
      trx.selectFrom('webhookReceipts').select(['id', 'payload']).execute(),
    )
    t.equal(visible.length, 2, `tenant ${shop} sees its two receipts`)
    t.ok(
      visible.every((v) => (v.payload as { shop: string }).shop === shop),
      `and none of the other`,
    )
  }
})

t.test('the transaction fails: every delivery in it is refused, none stored', async (t) => {
  const s = await setup(t)
  const shop = 'fail-store.myshopify.com'
  const a = await s.tenant(shop)
  const b = await s.tenant('other-store.myshopify.com')
  s.tenantIds.set(shop, a)
  await s.deliver(shop, randomUUID(), '{"warm":1}') // tenant cache warm: the rest go in one tick
  s.batches.length = 0
  // The connection breaks after earlier rows of the transaction were written (the failing row
  // is the last tenant's), as when Postgres goes away mid-commit.
  const poison = randomUUID()
  await s.q(`
    CREATE FUNCTION fail_on_poison() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.webhook_id = '${poison}' THEN
        RAISE EXCEPTION 'connection lost' USING ERRCODE = '08006';
      END IF;
      RETURN NEW;
    END $$`)
  await s.q(`CREATE TRIGGER fail_on_poison BEFORE INSERT ON webhook_receipts
    FOR EACH ROW EXECUTE FUNCTION fail_on_poison()`)
  const before = await s.q<{ n: number }>('SELECT count(*)::int AS n FROM webhook_receipts')

  const viaIntake = Array.from({ length: 20 }, () =>
    s.deliver(shop, randomUUID(), '{"id":2}').then(
      () => 'stored',
      (err: unknown) => err,
    ),
  )
  const direct = s.inbox.submit(receipt(b, poison, '{"id":3}')).then(
    () => 'stored',
    (err: unknown) => err,
  )
  const outcomes = await Promise.all([...viaIntake, direct])
  t.same(s.batches, [21], 'one transaction')
  for (const o of outcomes.slice(0, 20))
    t.ok(o instanceof ExternalServiceError, 'intake answers 503 (ExternalServiceError)')
  t.match(outcomes[20], { code: '08006' })
  const after = await s.q<{ n: number }>('SELECT count(*)::int AS n FROM webhook_receipts')
  t.equal(after[0]!.n, before[0]!.n, 'nothing of the batch stored')
  t.equal(await s.queue.count(), 1, 'nothing of the batch enqueued (only the warm-up)')

  // The next batch is unaffected.
  await s.q('DROP TRIGGER fail_on_poison ON webhook_receipts')
  const ok = await s.deliver(shop, randomUUID(), '{"id":4}')
  t.equal(ok.outcome, 'accepted')
})

t.test('a body Postgres cannot store fails only its own delivery', async (t) => {
  const s = await setup(t)
  const shop = 'nul-store.myshopify.com'
  s.tenantIds.set(shop, await s.tenant(shop))
  await s.deliver(shop, randomUUID(), '{"warm":1}')
  s.batches.length = 0
  // A signed body that is not JSON (the inbox keeps the bytes as \`json\`, which checks the
  // syntax): the sender's fault, 400, not an outage.
  const bodies = ['{"id":5}', '{"note": tru}', '{"id":6}']
  const outcomes = await Promise.all(
    bodies.map((b) =>
      s.deliver(shop, randomUUID(), b).then(
        (r) => r.outcome,
        (err: unknown) => err,
      ),
    ),
  )
  t.equal(s.batches[0], 3, 'they went in one transaction first')
  t.equal(outcomes[0], 'accepted')
  t.ok(outcomes[1] instanceof ValidationError, 'the bad body alone is refused (400)')
  t.equal(outcomes[2], 'accepted')
  const rows = await s.q<{ id: string }>(`SELECT payload->>'id' AS id FROM webhook_receipts`)
  t.same(rows.map((r) => r.id).sort(), ['5', '6', null].sort())
})

t.test('close waits for receipts being committed, then refuses new ones', async (t) => {
  const s = await setup(t)
  const a = await s.tenant('close-store.myshopify.com')
  const pending = Array.from({ length: 10 }, () =>
    s.inbox.submit(receipt(a, randomUUID(), '{"id":7}')),
  )
  await s.inbox.close()
  const stored = await s.q<{ n: number }>('SELECT count(*)::int AS n FROM webhook_receipts')
  t.equal(stored[0]!.n, 10, 'every waiting receipt committed before close resolved')
  t.equal((await Promise.all(pending)).length, 10)
  await t.rejects(s.inbox.submit(receipt(a, randomUUID(), '{"id":8}')), /closed/)
})

// Stubs whose every call waits until the test settles it: the order of commits and enqueues.
function controlled() {
  type Call<A, R> = { args: A; resolve: (r: R) => void; reject: (e: unknown) => void }
  const inserts: Call<readonly NewReceipt[], { id: string; created: boolean }[]>[] = []
  const enqueues: Call<readonly { jobId: string }[], void>[] = []
  const receipts = {
    insertMany: (rows: readonly NewReceipt[]) =>
      new Promise<{ id: string; created: boolean }[]>((resolve, reject) =>
        inserts.push({ args: rows, resolve, reject }),
      ),
  }
  const producer = {
    enqueueBulk: (_name: string, jobs: readonly { jobId: string }[]) =>
      new Promise<void>((resolve, reject) => enqueues.push({ args: jobs, resolve, reject })),
  }
  const commit = (n: number) =>
    inserts[n]!.resolve(inserts[n]!.args.map((r) => ({ id: `id-${r.webhookId}`, created: true })))
  return { inserts, enqueues, receipts, producer, commit }
}
const turn = () => new Promise((r) => setImmediate(r))

t.test('the next transaction starts while the previous batch is being enqueued', async (t) => {
  const c = controlled()
  const inbox = createWebhookInbox({ receipts: c.receipts, producer: c.producer as never, logger })
  const answered: string[] = []
  const send = (id: string) =>
    inbox.submit(receipt('tenant-a', id, '{}')).then((r) => {
      answered.push(id)
      return r
    })
  const first = ['a1', 'a2', 'a3'].map(send)
  await turn()
  t.same(
    c.inserts.map((i) => i.args.length),
    [3],
    'the deliveries of one turn share a transaction',
  )
  const second = ['b1', 'b2'].map(send)
  await turn()
  t.equal(c.inserts.length, 1, 'two waiting deliveries wait for the open transaction')

  c.commit(0)
  await turn()
  t.same(
    c.enqueues.map((e) => e.args.map((j) => j.jobId)),
    [['id-a1', 'id-a2', 'id-a3']],
    'the committed batch is enqueued',
  )
  t.same(
    c.inserts.map((i) => i.args.length),
    [3, 2],
    'the next transaction opened without waiting for that enqueue',
  )
  t.same(answered, [], 'no answer before its enqueue was attempted')

  c.commit(1)
  await turn()
  c.enqueues[1]!.resolve()
  await Promise.all(second)
  t.same(answered, ['b1', 'b2'], 'a batch answers once its own commit and enqueue are done')

  let closed = false
  const closing = inbox.close().then(() => (closed = true))
  await turn()
  t.notOk(closed, 'close waits for the enqueue still running')
  c.enqueues[0]!.resolve()
  const results = await Promise.all(first)
  await closing
  t.ok(
    results.every((r) => r.created && r.enqueued),
    'the first batch answers stored and enqueued',
  )
  t.same(answered.slice(2).sort(), ['a1', 'a2', 'a3'])
})

t.test('enough waiting deliveries open another transaction, up to maxInFlight', async (t) => {
  const c = controlled()
  const inbox = createWebhookInbox({
    receipts: c.receipts,
    producer: c.producer as never,
    logger,
    parallelAt: 4,
    maxInFlight: 2,
  })
  const all = [inbox.submit(receipt('tenant-a', 'x0', '{}'))]
  await turn()
  t.equal(c.inserts.length, 1)
  for (let i = 1; i <= 3; i++) all.push(inbox.submit(receipt('tenant-a', `x${i}`, '{}')))
  await turn()
  t.equal(c.inserts.length, 1, 'three waiting: not worth a second transaction')
  all.push(inbox.submit(receipt('tenant-a', 'x4', '{}')))
  t.same(
    c.inserts.map((i) => i.args.length),
    [1, 4],
    'the fourth opens a second transaction at once',
  )
  for (let i = 5; i <= 12; i++) all.push(inbox.submit(receipt('tenant-a', `x${i}`, '{}')))
  await turn()
  t.equal(c.inserts.length, 2, 'no third transaction beyond maxInFlight')
  c.commit(0)
  await turn()
  t.same(
    c.inserts.map((i) => i.args.length),
    [1, 4, 8],
    'the waiting ones go when one commits',
  )
  c.commit(1)
  c.commit(2)
  await turn()
  for (const e of c.enqueues) e.resolve()
  t.equal((await Promise.all(all)).length, 13)
})

t.test('payloads are stored lz4-compressed where Postgres has lz4', async (t) => {
  const s = await setup(t)
  const a = await s.tenant('lz4-store.myshopify.com')
  const items = Array.from({ length: 200 }, (_, i) => ({ id: i, title: `line item ${i}` }))
  await s.inbox.submit(receipt(a, randomUUID(), JSON.stringify({ line_items: items })))
  let hasLz4 = true
  try {
    await s.q('CREATE TEMP TABLE lz4_probe (p text COMPRESSION lz4)')
  } catch (err) {
    if ((err as { code?: string }).code !== '0A000') throw err
    hasLz4 = false // built without lz4: the migration left the column pglz
  }
  const [row] = await s.q<{ method: string }>(
    'SELECT pg_column_compression(payload) AS method FROM webhook_receipts',
  )
  t.equal(row!.method, hasLz4 ? 'lz4' : 'pglz')
})
