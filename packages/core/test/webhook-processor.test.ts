import { WEBHOOK_SAMPLES_DIR } from '@xeno/shopify-reference'
import t, { type Test } from 'tap'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { createTestDatabase } from '@xeno/db/testing'
import { createLogger } from '@xeno/logger'
import { createComplianceRepository } from '../src/webhooks/compliance.repository.ts'
import { createWebhookReceiptRepository } from '../src/webhooks/webhook-receipt.repository.ts'
import {
  createWebhookProcessor,
  RetryLaterError,
} from '../src/webhooks/webhook-processor.service.ts'

const samples = WEBHOOK_SAMPLES_DIR
const sample = (file: string) => fs.readFile(path.join(samples, file), 'utf8')

async function setup(t: Test) {
  const tdb = await createTestDatabase()
  t.teardown(tdb.close)
  const q = tdb.ownerQuery
  const [tenant] = await q<{ id: string }>(
    `INSERT INTO tenants (shop_domain, status) VALUES ('fake-store-1.myshopify.com', 'active') RETURNING id`,
  )
  const receipts = createWebhookReceiptRepository(tdb.db)
  const uninstalled: string[] = []
  const processor = createWebhookProcessor({
    db: tdb.db,
    receipts,
    compliance: createComplianceRepository(tdb.db),
    logger: createLogger({ level: 'silent' }),
    afterUninstall: async (id) => {
      uninstalled.push(id)
    },
  })
  const deliver = async (topic: string, payloadText: string, triggeredAt: Date | null = null) => {
    const r = (
      await receipts.insertMany([
        {
          tenantId: tenant!.id,
          webhookId: randomUUID(),
          eventId: null,
          topic,
          apiVersion: '2026-07',
          triggeredAt,
          payloadText,
        },
      ])
    )[0]!
    return { id: r.id, outcome: await processor.process(tenant!.id, r.id) }
  }
  return { tenantId: tenant!.id, q, deliver, processor, receipts, uninstalled }
}

t.test('orders: applied once, stale deliveries never overwrite newer data', async (t) => {
  const { tenantId, q, deliver, processor } = await setup(t)
  const text = await sample('orders__create.json')
  const first = await deliver('orders/create', text)
  t.equal(first.outcome, 'processed')
  const [order] = await q<{ id: string; total_price: string; updated_at: Date; name: string }>(
    'SELECT id, total_price, updated_at, name FROM orders',
  )
  t.equal(order?.id, '820982911946154508', 'the 18-digit id is exact')
  const items = await q('SELECT id FROM order_line_items')
  t.ok(items.length > 0, 'line items stored')
  t.equal(
    await processor.process(tenantId, first.id),
    'already-done',
    'a second run of the same receipt does nothing',
  )

  // A newer update, then a stale one (older updated_at) arriving late.
  const base = JSON.parse(text) as Record<string, unknown>
  const newer = { ...base, name: '#NEWER', updated_at: '2030-01-01T00:00:00Z' }
  const stale = { ...base, name: '#STALE', updated_at: '2025-01-01T00:00:00Z' }
  await deliver(
    'orders/updated',
    JSON.stringify(newer).replace('"id":820982911946154500', '"id":820982911946154508'),
  )
  await deliver(
    'orders/updated',
    JSON.stringify(stale).replace('"id":820982911946154500', '"id":820982911946154508'),
  )
  const [after] = await q<{ name: string }>('SELECT name FROM orders')
  t.equal(after?.name, '#NEWER', 'the stale delivery did not win')
  const rows = await q('SELECT 1 FROM orders')
  t.equal(rows.length, 1, 'no duplicate order')
  const receiptStates = await q<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM webhook_receipts GROUP BY status',
  )
  t.same(receiptStates, [{ status: 'processed', n: 3 }])
})

t.test('deletes are not resurrected by a late, older update', async (t) => {
  const { q, deliver } = await setup(t)
  const product = await sample('products__create.json')
  await deliver('products/create', product)
  const p = JSON.parse(product) as { id: number; admin_graphql_api_id: string; updated_at: string }
  await deliver(
    'products/delete',
    JSON.stringify({ id: p.admin_graphql_api_id.split('/').pop() }),
    new Date('2031-01-01T00:00:00Z'),
  )
  // A delayed products/update produced before the deletion.
  await deliver('products/update', product)
  const [row] = await q<{ deleted_at: Date | null }>('SELECT deleted_at FROM products')
  t.ok(row?.deleted_at, 'still deleted')
})

t.test('a refund that overtakes its order waits for it', async (t) => {
  const { q, deliver, processor, tenantId } = await setup(t)
  const refund = await deliver('refunds/create', await sample('refunds__create.json')).catch(
    (e: unknown) => e,
  )
  t.ok(refund instanceof RetryLaterError, 'retry later while the order is missing')
  const [pending] = await q<{ id: string; status: string }>(
    'SELECT id, status FROM webhook_receipts',
  )
  t.equal(pending?.status, 'received', 'receipt kept for the retry')
  await deliver('orders/create', await sample('orders__create.json'))
  t.equal(await processor.process(tenantId, pending!.id), 'processed')
  const refunds = await q<{ order_id: string }>('SELECT order_id FROM refunds')
  t.same(
    refunds.map((r) => r.order_id),
    ['820982911946154508'],
  )
})

t.test(
  'customers/data_request exports, customers/redact erases PII, both idempotent',
  async (t) => {
    const { q, deliver, tenantId } = await setup(t)
    await deliver('customers/create', await sample('customers__create.json'))
    const [customer] = await q<{ id: string; email: string }>('SELECT id, email FROM customers')
    t.ok(customer?.email, 'has an email before redaction')
    await q(
      `INSERT INTO custom_events (tenant_id, event_type, occurred_at, customer_id, session_id, properties)
    VALUES ($1, 'page_view', now(), $2, 'sess-1', '{"email":"x@example.com"}')`,
      [tenantId, customer!.id],
    )
    await q(
      `INSERT INTO orders (tenant_id, id, name, email, customer_id, currency, total_price, processed_at, created_at, updated_at)
    VALUES ($1, 42, '#42', 'pii@example.com', $2, 'USD', 10, now(), now(), now())`,
      [tenantId, customer!.id],
    )

    const request = JSON.stringify({
      shop_id: 1,
      shop_domain: 'fake-store-1.myshopify.com',
      customer: { id: 'CUSTOMER_ID', email: customer!.email, phone: null },
      orders_requested: [42],
      data_request: { id: 9999 },
    }).replace('"CUSTOMER_ID"', customer!.id) // a JSON number beyond 2^53, as Shopify sends it
    await deliver('customers/data_request', request)
    const [req] = await q<{
      export: { customer: { email: string }; orders: { id: string }[]; events: unknown[] }
      shopify_request_id: string
    }>(
      `SELECT export, shopify_request_id FROM compliance_requests WHERE topic = 'customers/data_request'`,
    )
    t.equal(req?.shopify_request_id, '9999')
    t.equal(req?.export.customer.email, customer!.email, 'export holds the profile')
    t.same(
      req?.export.orders.map((o) => String(o.id)),
      ['42'],
    )
    t.equal(req?.export.events.length, 1)

    const redact = JSON.stringify({
      shop_id: 1,
      shop_domain: 'fake-store-1.myshopify.com',
      customer: { id: 'CUSTOMER_ID', email: customer!.email, phone: null },
      orders_to_redact: [42],
    }).replace('"CUSTOMER_ID"', customer!.id)
    await deliver('customers/redact', redact)
    await deliver('customers/redact', redact) // Shopify may send it again with a new webhook id
    const [c] = await q<{
      email: string | null
      first_name: string | null
      redacted_at: Date | null
    }>('SELECT email, first_name, redacted_at FROM customers')
    t.same([c?.email, c?.first_name], [null, null])
    t.ok(c?.redacted_at)
    const [o] = await q<{ email: string | null; total_price: string }>(
      'SELECT email, total_price FROM orders WHERE id = 42',
    )
    t.equal(o?.email, null, 'order email erased')
    t.equal(o?.total_price, '10.0000', 'amounts kept for aggregates')
    const [e] = await q<{ properties: object; session_id: string | null }>(
      'SELECT properties, session_id FROM custom_events',
    )
    t.same(e, { properties: {}, session_id: null })
    const recorded = await q('SELECT 1 FROM compliance_requests')
    t.equal(recorded.length, 3, 'each request recorded')
  },
)

t.test(
  'shop/redact deletes every row of the tenant and records it; app/uninstalled stops the tenant',
  async (t) => {
    const { q, deliver, tenantId, uninstalled } = await setup(t)
    await q(
      `INSERT INTO shopify_credentials (tenant_id, access_token_enc, source) VALUES ($1, 'v1:x:y:z:w', 'oauth')`,
      [tenantId],
    )
    await deliver('app/uninstalled', await sample('app__uninstalled.json'))
    const [tenant] = await q<{ status: string }>('SELECT status FROM tenants')
    t.equal(tenant?.status, 'uninstalled')
    t.same(await q('SELECT 1 FROM shopify_credentials'), [], 'credentials destroyed')
    t.same(uninstalled, [tenantId], 'schedules and queued work removal requested')

    await deliver('orders/create', await sample('orders__create.json'))
    await deliver('customers/create', await sample('customers__create.json'))
    await deliver(
      'shop/redact',
      JSON.stringify({ shop_id: 1, shop_domain: 'fake-store-1.myshopify.com' }),
    )
    for (const table of ['tenants', 'orders', 'order_line_items', 'customers', 'webhook_receipts'])
      t.same(await q(`SELECT 1 FROM ${table}`), [], `${table} emptied`)
    const records = await q<{ topic: string; summary: { tenantsDeleted: number } }>(
      'SELECT topic, summary FROM compliance_requests',
    )
    t.same(
      records,
      [{ topic: 'shop/redact', summary: { tenantsDeleted: 1 } }],
      'the redaction itself is recorded',
    )
  },
)

t.test('a receipt that keeps failing ends failed with its error', async (t) => {
  const { q, receipts, processor, tenantId } = await setup(t)
  const r = (
    await receipts.insertMany([
      {
        tenantId,
        webhookId: 'w1',
        eventId: null,
        topic: 'orders/create',
        apiVersion: null,
        triggeredAt: null,
        payloadText: '{"id": 1}',
      },
    ])
  )[0]!
  const err = await processor.process(tenantId, r.id).catch((e: unknown) => e)
  t.ok(err instanceof Error, 'a malformed order payload throws')
  await processor.recordFailure(tenantId, r.id, err, false)
  let [row] = await q<{ status: string; attempts: number; last_error: string }>(
    'SELECT status, attempts, last_error FROM webhook_receipts',
  )
  t.same([row?.status, row?.attempts], ['received', 1])
  await processor.recordFailure(tenantId, r.id, err, true)
  ;[row] = await q('SELECT status, attempts, last_error FROM webhook_receipts')
  t.equal(row?.status, 'failed')
  t.ok(row?.last_error)
})
