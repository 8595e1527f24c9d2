// A captured webhook of shop A, replayed with shop B's headers. Shopify signs the body only, with
// the app's one secret, so the signature A's delivery carried is valid for any shop header; the
// topic, shop and webhook-id headers are not signed. Over every subscribed and compliance topic,
// such a replay must change no row of B: the destructive topics are refused at intake (their body
// must name the header shop by domain and shop id), and the data topics store only what B's own
// Admin API returns for the ids the body names (nothing, for A's ids).
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { WEBHOOK_TOPICS, webhookHmac } from '@xeno/shopify'
import { createLogger } from '@xeno/logger'
import {
  createComplianceRepository,
  createWebhookProcessor,
  createWebhookReceiptRepository,
} from '@xeno/core'
import { createFakeShopify } from '@xeno/shopify-fake'
import { fullApp, FULL_APP_WEBHOOK_SECRET } from './support/full-app.ts'
import { SAMPLES_DIR } from './support/webhooks.ts'
import { shopForTenant } from './support/readback.ts'

const SECRET = FULL_APP_WEBHOOK_SECRET
const DESTRUCTIVE = new Set([
  'app/uninstalled',
  'shop/redact',
  'customers/redact',
  'customers/data_request',
])

/** Shopify's published sample of `topic` with `fields` set (ids as JSON numbers, like Shopify). */
async function sampleWith(topic: string, fields: Record<string, unknown>): Promise<string> {
  const file =
    topic === 'orders/delete'
      ? undefined
      : path.join(SAMPLES_DIR, `${topic.replace('/', '__')}.json`)
  const base = file ? (JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>) : {}
  return JSON.stringify({ ...base, ...fields })
}

t.test(
  "a captured body of shop A replayed with shop B's headers changes no row of B, on every topic",
  { timeout: 240_000 },
  async (t) => {
    const h = await fullApp(t)
    const fake = await createFakeShopify({ clock: { auto: false } })
    t.teardown(() => fake.close())
    const a = await h.tenant('replay-shop-a')
    const b = await h.tenant('replay-shop-b')
    const shopA = await shopForTenant(t, {
      db: h.db,
      ownerQuery: h.ownerQuery,
      tenantId: a.id,
      domain: a.shopDomain,
      fake,
    })
    const shopB = await shopForTenant(t, {
      db: h.db,
      ownerQuery: h.ownerQuery,
      tenantId: b.id,
      domain: b.shopDomain,
      fake,
    })
    const processorFor = (readback: typeof shopA.readback) =>
      createWebhookProcessor({
        db: h.db,
        receipts: createWebhookReceiptRepository(h.db),
        compliance: createComplianceRepository(h.db),
        readback,
        logger: createLogger({ level: 'silent' }),
      })
    const processors = {
      [a.id]: processorFor(shopA.readback),
      [b.id]: processorFor(shopB.readback),
    }
    const post = (topic: string, body: string, shop: string) =>
      h.app.inject({
        method: 'POST',
        url: `/api/webhooks/${topic}`,
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': topic,
          // The app's one secret signs every shop's deliveries: this is the header A's delivery
          // carried, valid for any shop header.
          'x-shopify-hmac-sha256': webhookHmac(body, SECRET),
          'x-shopify-shop-domain': shop,
          'x-shopify-api-version': '2026-07',
          'x-shopify-webhook-id': randomUUID(),
          'x-shopify-triggered-at': new Date().toISOString(),
        },
        payload: body,
      })
    /** Applies every receipt of the tenant still `received`; returns their outcomes by topic. */
    const drain = async (tenantId: string) => {
      const rows = await h.ownerQuery<{ id: string; topic: string }>(
        `SELECT id, topic FROM webhook_receipts WHERE tenant_id = $1 AND status = 'received'`,
        [tenantId],
      )
      const out: Record<string, string> = {}
      for (const r of rows) out[r.topic] = await processors[tenantId]!.process(tenantId, r.id)
      return out
    }

    // Shop B's own data, stored through its own deliveries (the positive control of the path).
    const bProduct = shopB.store.createProduct({ title: 'B board', price: 1500 })
    const bCustomer = shopB.store.createCustomer({ firstName: 'Bea', email: 'bea@b.example' })
    const bOrder = shopB.store.createOrder({
      customerId: bCustomer.id,
      lineItems: [{ productId: bProduct.id, quantity: 2 }],
    })
    for (const [topic, fields] of [
      ['products/create', { id: bProduct.id }],
      ['customers/create', { id: bCustomer.id }],
      ['orders/create', { id: bOrder.id }],
    ] as const) {
      const res = await post(topic, await sampleWith(topic, fields), b.shopDomain)
      t.same(res.json(), { data: { status: 'accepted' } }, `B's own ${topic}`)
    }
    t.same(
      Object.values(await drain(b.id)),
      ['processed', 'processed', 'processed'],
      "B's own deliveries are applied",
    )

    // Shop A's objects. The fake numbers each shop's objects from the same blocks (Shopify's ids
    // are global), so A first makes as many objects as B has, and the captured ones come after.
    shopA.store.createProduct({ title: 'A filler', price: 100 })
    shopA.store.createCustomer({ firstName: 'Filler' })
    shopA.store.createOrder({ lineItems: [{ productId: bProduct.id, quantity: 1 }] })
    const aProduct = shopA.store.createProduct({ title: 'A board', price: 9900 })
    const aGoneProduct = shopA.store.createProduct({ title: 'A gone', price: 100 })
    const aCustomer = shopA.store.createCustomer({ firstName: 'Ann', email: 'ann@a.example' })
    const aGoneCustomer = shopA.store.createCustomer({ firstName: 'Gone' })
    const aOrder = shopA.store.createOrder({
      customerId: aCustomer.id,
      lineItems: [{ productId: aProduct.id, quantity: 3 }],
    })
    const aGoneOrder = shopA.store.createOrder({
      lineItems: [{ productId: aProduct.id, quantity: 1 }],
    })
    const { refund: aRefund } = shopA.store.refundOrder(aOrder.id)
    shopA.store.deleteProduct(aGoneProduct.id)
    shopA.store.deleteCustomer(aGoneCustomer.id)
    shopA.store.deleteOrder(aGoneOrder.id)
    const bIds = new Set([bProduct.id, bCustomer.id, bOrder.id].map(String))
    for (const id of [aProduct, aCustomer, aOrder, aGoneOrder, aGoneProduct, aGoneCustomer])
      t.notOk(bIds.has(String(id.id)), `A's id ${id.id} is not one of B's`)

    const aShopId = Number(shopA.created.shopId)
    const aCompliance = { shop_id: aShopId, shop_domain: a.shopDomain }
    const captured: Record<string, Record<string, unknown>> = {
      'orders/create': { id: aOrder.id },
      'orders/updated': { id: aOrder.id },
      'orders/cancelled': { id: aOrder.id },
      'orders/paid': { id: aOrder.id },
      'orders/delete': { id: aGoneOrder.id },
      'refunds/create': { id: aRefund.id, order_id: aOrder.id },
      'customers/create': { id: aCustomer.id },
      'customers/update': { id: aCustomer.id },
      'customers/delete': { id: aGoneCustomer.id },
      'products/create': { id: aProduct.id },
      'products/update': { id: aProduct.id },
      'products/delete': { id: aGoneProduct.id },
      'app/uninstalled': { id: aShopId, myshopify_domain: a.shopDomain },
      'bulk_operations/finish': {},
      'customers/data_request': { ...aCompliance, customer: { id: aCustomer.id } },
      'customers/redact': { ...aCompliance, customer: { id: bCustomer.id } },
      'shop/redact': aCompliance,
    }
    t.same(Object.keys(captured).sort(), [...WEBHOOK_TOPICS].sort(), 'every topic is covered')
    const bodies: Record<string, string> = {}
    for (const topic of WEBHOOK_TOPICS) bodies[topic] = await sampleWith(topic, captured[topic]!)

    // B's rows, every tenant table (and B's tenant row), before the replays.
    const tables = (
      await h.ownerQuery<{ table_name: string }>(
        `SELECT table_name FROM information_schema.columns
         WHERE table_schema = 'public' AND column_name = 'tenant_id' AND table_name <> 'webhook_receipts'
         ORDER BY 1`,
      )
    ).map((r) => r.table_name)
    const snapshot = async () => {
      const out: Record<string, string[]> = {}
      for (const table of tables)
        out[table] = (
          await h.ownerQuery<{ r: string }>(
            `SELECT to_jsonb(x)::text AS r FROM "${table}" x WHERE tenant_id = $1 ORDER BY 1`,
            [b.id],
          )
        ).map((x) => x.r)
      out.tenants = (
        await h.ownerQuery<{ r: string }>(
          `SELECT to_jsonb(x)::text AS r FROM tenants x WHERE id = $1`,
          [b.id],
        )
      ).map((x) => x.r)
      return out
    }
    const before = await snapshot()
    t.ok(before.orders!.length === 1 && before.shopify_credentials!.length === 1, 'B has data')

    // Every captured body on its own topic, and every one on each destructive topic.
    for (const topic of WEBHOOK_TOPICS) {
      const res = await post(topic, bodies[topic]!, b.shopDomain)
      if (DESTRUCTIVE.has(topic)) {
        t.equal(res.statusCode, 400, `A's ${topic} on B: refused`)
        t.match(
          res.json().error.fields[0].field,
          /^body\.(shop_id|shop_domain|myshopify_domain|id)$/,
        )
      } else t.same(res.json(), { data: { status: 'accepted' } }, `A's ${topic} on B: stored`)
      for (const target of DESTRUCTIVE) {
        if (target === topic) continue
        const cross = await post(target, bodies[topic]!, b.shopDomain)
        t.equal(cross.statusCode, 400, `A's ${topic} body as ${target} on B: refused`)
      }
    }
    // A body that names B's domain but another shop's id is refused as well.
    const wrongId = await sampleWith('shop/redact', { shop_id: aShopId, shop_domain: b.shopDomain })
    const res = await post('shop/redact', wrongId, b.shopDomain)
    t.equal(res.statusCode, 400)
    t.equal(res.json().error.fields[0].field, 'body.shop_id')

    const outcomes = await drain(b.id)
    t.same(
      new Set(Object.values(outcomes)),
      new Set(['skipped']),
      `every replay stored for B is skipped: ${JSON.stringify(outcomes)}`,
    )
    t.same(await snapshot(), before, 'no row of B changed')

    // Positive control: the same bodies with A's own headers change A.
    for (const topic of ['orders/create', 'customers/update', 'products/update', 'refunds/create'])
      t.same((await post(topic, bodies[topic]!, a.shopDomain)).json(), {
        data: { status: 'accepted' },
      })
    const aOutcomes = await drain(a.id)
    t.same(new Set(Object.values(aOutcomes)), new Set(['processed']), 'applied to A')
    const [aOrders] = await h.ownerQuery<{ n: number }>(
      'SELECT count(*)::int AS n FROM orders WHERE tenant_id = $1',
      [a.id],
    )
    t.equal(aOrders?.n, 1)
    const uninstall = await post('app/uninstalled', bodies['app/uninstalled']!, a.shopDomain)
    t.same(uninstall.json(), { data: { status: 'accepted' } }, "A's own app/uninstalled")
    t.same(await drain(a.id), { 'app/uninstalled': 'processed' })
    const [status] = await h.ownerQuery<{ status: string }>(
      'SELECT status FROM tenants WHERE id = $1',
      [a.id],
    )
    t.equal(status?.status, 'uninstalled')
  },
)
