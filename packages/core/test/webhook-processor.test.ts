import { WEBHOOK_SAMPLES_DIR } from '@xeno/shopify-reference'
import t, { type Test } from 'tap'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { createLogger } from '@xeno/logger'
import type { ShopifyAdmin } from '@xeno/shopify'
import { createComplianceRepository } from '../src/webhooks/compliance.repository.ts'
import { createWebhookReceiptRepository } from '../src/webhooks/webhook-receipt.repository.ts'
import { createWebhookProcessor } from '../src/webhooks/webhook-processor.service.ts'
import { createShopReadback } from '../src/webhooks/shop-readback.service.ts'
import { syncHarness } from './support/sync-setup.ts'

const samples = WEBHOOK_SAMPLES_DIR
const sample = (file: string) => fs.readFile(path.join(samples, file), 'utf8')

/**
 * A tenant connected to a fake shop, and a processor that reads data topics back from it. The
 * bodies delivered are Shopify's published samples with the ids of the shop's own objects: the
 * processor stores what the shop's Admin API returns, never what the body says.
 */
async function setup(t: Test) {
  const h = await syncHarness(t)
  const shop = await h.tenant({ orders: 0, customers: 0, products: 0 })
  const tenantId = shop.tenantId
  const q = h.ownerQuery
  const receipts = createWebhookReceiptRepository(h.tdb.db)
  const uninstalled: string[] = []
  // Counts the Admin API queries the read-back sends.
  const queries: string[] = []
  const admin: Pick<ShopifyAdmin, 'forShop'> = {
    forShop: (domain, token) => {
      const c = h.admin.forShop(domain, token)
      return {
        ...c,
        request: (query: string, variables?: Record<string, unknown>, signal?: AbortSignal) => {
          queries.push(/query (\w+)/.exec(query)?.[1] ?? '?')
          return c.request(query, variables, signal)
        },
      }
    },
  }
  const processor = createWebhookProcessor({
    db: h.tdb.db,
    receipts,
    compliance: createComplianceRepository(h.tdb.db),
    readback: createShopReadback({
      admin,
      access: h.access,
      logger: createLogger({ level: 'silent' }),
      // Wide enough that the eight concurrent deliveries below surely share one window.
      windowMs: 300,
    }),
    logger: createLogger({ level: 'silent' }),
    afterUninstall: async (id) => {
      uninstalled.push(id)
    },
  })
  const store = async (topic: string, payloadText: string, triggeredAt: Date | null = null) =>
    (
      await receipts.insertMany([
        {
          tenantId,
          webhookId: randomUUID(),
          eventId: null,
          topic,
          apiVersion: '2026-07',
          triggeredAt,
          payloadText,
        },
      ])
    )[0]!.id
  const deliver = async (topic: string, payloadText: string, triggeredAt: Date | null = null) => {
    const id = await store(topic, payloadText, triggeredAt)
    return { id, outcome: await processor.process(tenantId, id) }
  }
  /** A published sample body of `file` naming `id` (and more ids by key). */
  const body = async (file: string, ids: Record<string, number | string>) => {
    const o = JSON.parse(await sample(file)) as Record<string, unknown>
    return JSON.stringify({
      ...o,
      ...Object.fromEntries(Object.entries(ids).map(([k, v]) => [k, Number(v)])),
    })
  }
  return { h, shop, tenantId, q, deliver, store, body, processor, receipts, uninstalled, queries }
}

t.test('an order delivery stores what the shop returns, not what the body says', async (t) => {
  const { shop, tenantId, q, deliver, body, processor } = await setup(t)
  const product = shop.store.createProduct({ title: 'Board', price: 2500 })
  const order = shop.store.createOrder({ lineItems: [{ productId: product.id, quantity: 2 }] })
  const text = (await body('orders__create.json', { id: order.id })).replace(
    /"name":"[^"]*"/,
    '"name":"#FORGED"',
  )
  const first = await deliver('orders/create', text)
  t.equal(first.outcome, 'processed')
  const [row] = await q<{ id: string; name: string }>('SELECT id, name FROM orders')
  t.equal(row?.id, String(order.id))
  t.equal(row?.name, order.name, "the shop's own name, not the body's")
  const items = await q<{ quantity: number }>('SELECT quantity FROM order_line_items')
  t.same(
    items.map((i) => i.quantity),
    [2],
    'line items from the shop',
  )
  t.equal(await processor.process(tenantId, first.id), 'already-done', 'a second run does nothing')

  // An order id the shop does not have (a captured body of another shop) changes nothing.
  const foreign = await deliver(
    'orders/updated',
    await body('orders__updated.json', { id: 999_000_001 }),
  )
  t.equal(foreign.outcome, 'skipped')
  t.equal((await q('SELECT 1 FROM orders')).length, 1, 'no row added')
  const states = await q<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM webhook_receipts GROUP BY status ORDER BY 1',
  )
  t.same(states, [
    { status: 'processed', n: 1 },
    { status: 'skipped', n: 1 },
  ])
})

t.test('deliveries close together share one nodes query per shop', async (t) => {
  const { shop, tenantId, q, store, body, processor, queries } = await setup(t)
  const ids = Array.from(
    { length: 8 },
    (_, i) => shop.store.createCustomer({ firstName: `C${i}` }).id,
  )
  const receiptIds = await Promise.all(
    ids.map(async (id) => store('customers/create', await body('customers__create.json', { id }))),
  )
  const outcomes = await Promise.all(receiptIds.map((r) => processor.process(tenantId, r)))
  t.same(outcomes, Array(8).fill('processed'))
  t.same(queries, ['XenoCustomerNodes'], 'eight deliveries, one Admin API query')
  t.equal((await q('SELECT 1 FROM customers')).length, 8)
})

t.test('a delete applies only once the shop no longer has the object', async (t) => {
  const { shop, q, deliver, body } = await setup(t)
  const product = shop.store.createProduct({ title: 'Lamp', price: 900 })
  t.equal(
    (await deliver('products/create', await body('products__create.json', { id: product.id })))
      .outcome,
    'processed',
  )
  const early = await deliver('products/delete', JSON.stringify({ id: product.id }))
  t.equal(early.outcome, 'skipped', 'the shop still has it: a replayed delete does nothing')
  let [row] = await q<{ deleted_at: Date | null }>('SELECT deleted_at FROM products')
  t.equal(row?.deleted_at, null)
  shop.store.deleteProduct(product.id)
  t.equal(
    (await deliver('products/delete', JSON.stringify({ id: product.id }))).outcome,
    'processed',
  )
  // A delayed products/update produced before the deletion finds nothing to store.
  t.equal(
    (await deliver('products/update', await body('products__update.json', { id: product.id })))
      .outcome,
    'skipped',
  )
  ;[row] = await q<{ deleted_at: Date | null }>('SELECT deleted_at FROM products')
  t.ok(row?.deleted_at, 'still deleted')
})

t.test('a refund that overtakes its order stores the order with its refunds', async (t) => {
  const { shop, q, deliver, body } = await setup(t)
  const product = shop.store.createProduct({ title: 'Mug', price: 1200 })
  const order = shop.store.createOrder({ lineItems: [{ productId: product.id, quantity: 1 }] })
  const { refund } = shop.store.refundOrder(order.id)
  const r = await deliver(
    'refunds/create',
    await body('refunds__create.json', { id: refund.id, order_id: order.id }),
  )
  t.equal(r.outcome, 'processed')
  t.same(
    (await q<{ id: string; order_id: string }>('SELECT id, order_id FROM refunds')).map((x) => [
      x.id,
      x.order_id,
    ]),
    [[String(refund.id), String(order.id)]],
  )
  t.equal((await q('SELECT 1 FROM orders')).length, 1, 'the order came with it')
})

t.test("a body that is not its topic's shape fails at once, naming the field", async (t) => {
  const { q, deliver, queries } = await setup(t)
  const r = await deliver('orders/create', await sample('products__create.json'))
  t.equal(r.outcome, 'rejected')
  const [row] = await q<{ status: string; last_error: string }>(
    'SELECT status, last_error FROM webhook_receipts',
  )
  t.equal(row?.status, 'failed')
  t.match(row?.last_error, /^body\.line_items: /)
  t.same(queries, [], 'nothing asked of Shopify')
})

t.test(
  'customers/data_request exports, customers/redact erases PII, both idempotent',
  async (t) => {
    const { q, deliver, tenantId, shop, body } = await setup(t)
    const created = shop.store.createCustomer({ firstName: 'Pat', email: 'pat@example.com' })
    await deliver('customers/create', await body('customers__create.json', { id: created.id }))
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
      shop_domain: shop.domain,
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
      shop_domain: shop.domain,
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
    const { q, deliver, tenantId, uninstalled, shop, body } = await setup(t)
    const c = shop.store.createCustomer({ firstName: 'Lee' })
    await deliver('customers/create', await body('customers__create.json', { id: c.id }))
    await deliver('app/uninstalled', await sample('app__uninstalled.json'))
    const [tenant] = await q<{ status: string }>('SELECT status FROM tenants')
    t.equal(tenant?.status, 'uninstalled')
    t.same(await q('SELECT 1 FROM shopify_credentials'), [], 'credentials destroyed')
    t.same(uninstalled, [tenantId], 'schedules and queued work removal requested')

    // Without a token nothing more can be read back from the shop: data deliveries are skipped.
    const late = await deliver(
      'customers/create',
      await body('customers__create.json', { id: c.id }),
    )
    t.equal(late.outcome, 'skipped')
    await deliver('shop/redact', JSON.stringify({ shop_id: 1, shop_domain: shop.domain }))
    for (const table of ['tenants', 'customers', 'webhook_receipts'])
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
  const { q, store, processor, tenantId } = await setup(t)
  const id = await store('orders/create', '{"id": 1, "updated_at": "x", "line_items": []}')
  const err = new Error('Shopify answered 503')
  await processor.recordFailure(tenantId, id, err, false)
  let [row] = await q<{ status: string; attempts: number; last_error: string }>(
    'SELECT status, attempts, last_error FROM webhook_receipts',
  )
  t.same([row?.status, row?.attempts], ['received', 1])
  await processor.recordFailure(tenantId, id, err, true)
  ;[row] = await q('SELECT status, attempts, last_error FROM webhook_receipts')
  t.equal(row?.status, 'failed')
  t.equal(row?.last_error, 'Shopify answered 503')
})
