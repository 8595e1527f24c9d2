// Webhooks end to end: the fake Shopify delivers every change 1–3 times, shuffled over a day of
// fake time, to the real API over HTTP; a worker process (apps/worker/src/main.ts, as in
// production) applies the inbox. The final database equals the fake's truth and every delivery's
// effect is applied once.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { createAnalyticsService, createWebhookApi, rebuildAnalyticsRollups } from '@xeno/core'
import { withTenant } from '@xeno/db'
import { TEST_RUNTIME_ROLE, TEST_SYSTEM_ROLE } from '@xeno/db/testing'
import { createLogger } from '@xeno/logger'
import { createShopifyAdmin, registerWebhooks } from '@xeno/shopify'
import { createFakeShopify } from '@xeno/shopify-fake'
import {
  dbSnapshot,
  diffSnapshots,
  truthSnapshot,
  type Snapshot,
} from '../../../packages/core/test/support/truth.ts'
import { buildTestApp } from './support/app.ts'
import { testEnv } from './support/env.ts'
import { startProcess } from './support/process.ts'
import { shopForTenant } from './support/readback.ts'

const WORKER = fileURLToPath(new URL('../../worker/src/main.ts', import.meta.url))
const SECRET = 'fake-client-secret'
const DAY = 86_400_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Customers' lifetime stats are not in webhook payloads (only a sync brings them): compare the rest. */
function withoutLifetimeStats(s: Snapshot): Snapshot {
  const customers = new Map<string, string>()
  for (const [id, v] of s.customers) {
    const row = JSON.parse(v) as unknown[]
    row.splice(6, 2)
    customers.set(id, JSON.stringify(row))
  }
  return { ...s, customers }
}

t.test(
  'duplicated, shuffled and day-late webhooks converge on the truth, applied once',
  // The worker reads every delivery's object back from the fake: slower than the body alone.
  { timeout: 120_000 },
  async (t) => {
    const fake = await createFakeShopify({ clock: { auto: false }, seed: 11 })
    t.teardown(() => fake.close())
    const domain = `wh${randomBytes(3).toString('hex')}.myshopify.com`
    const shop = fake.createShop({ domain, seed: 5, orders: 0, customers: 0, products: 0 })
    const logger = createLogger({ level: 'silent' })
    const prefixName = `xeno-wh-${randomBytes(4).toString('hex')}`

    const h = await buildTestApp(t, {
      queuePrefix: `{${prefixName}}`,
      deps: ({ db, producer }) => ({
        webhooks: createWebhookApi({ db, producer, secrets: [SECRET], logger }),
      }),
    })
    const tenant = await h.tenant(domain)
    // The worker reads every data topic's object back from the shop, with the shop's token.
    const key = randomBytes(32)
    await shopForTenant(t, {
      db: h.db,
      ownerQuery: h.ownerQuery,
      tenantId: tenant.id,
      domain,
      fake,
      created: shop,
      key,
      secret: SECRET,
    })
    await h.app.listen({ port: 0, host: '127.0.0.1' })
    const apiOrigin = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`

    const admin = createShopifyAdmin({
      clientId: 'fake-client-id',
      clientSecret: SECRET,
      adminOrigin: fake.origin,
    })
    const subs = await registerWebhooks(admin.forShop(domain, shop.accessToken), apiOrigin)
    t.equal(subs.created.length, 14)

    const appUrl = new URL(h.ownerUrl)
    appUrl.username = TEST_RUNTIME_ROLE
    appUrl.password = TEST_RUNTIME_ROLE
    const systemUrl = new URL(h.ownerUrl)
    systemUrl.username = TEST_SYSTEM_ROLE
    systemUrl.password = TEST_SYSTEM_ROLE
    const worker = startProcess(
      WORKER,
      testEnv({
        DATABASE_URL: appUrl.toString(),
        DATABASE_SYSTEM_URL: systemUrl.toString(),
        QUEUE_PREFIX: prefixName,
        SHOPIFY_CLIENT_SECRET: SECRET,
        SHOPIFY_ADMIN_ORIGIN: fake.origin,
        TOKEN_ENCRYPTION_KEY: key.toString('hex'),
      }),
      ['--queues', 'webhooks', '--concurrency', '4'],
    )
    t.teardown(async () => {
      if (worker.child.exitCode === null) {
        worker.child.kill('SIGTERM')
        await worker.exited
      }
    })

    // Every delivery: up to 3 copies, each up to a day late (so arrival order is shuffled).
    fake.setWebhookKnobs(domain, { duplicateRate: 0.5, maxCopies: 3, reorderJitterMs: DAY })
    const store = fake.shop(domain)
    const tick = () => fake.clock.advance(1_500) // distinct updated_at seconds per change
    const products = []
    for (let i = 0; i < 4; i++) {
      products.push(store.createProduct({ title: `Board ${i}`, price: 1000 + i * 250 }))
      tick()
    }
    const customers = []
    for (let i = 0; i < 5; i++) {
      customers.push(
        store.createCustomer({
          firstName: `Ann${i}`,
          lastName: 'Lee',
          email: `ann${i}@example.com`,
        }),
      )
      tick()
    }
    const orders = []
    for (let i = 0; i < 12; i++) {
      orders.push(
        store.createOrder({
          customerId: i % 4 === 3 ? null : customers[i % customers.length]!.id,
          lineItems: [{ productId: products[i % products.length]!.id, quantity: 1 + (i % 3) }],
          test: i === 5,
        }),
      )
      tick()
    }
    store.updateOrder(orders[0]!.id, { tags: ['vip'], email: 'changed@example.com' })
    tick()
    store.refundOrder(orders[1]!.id)
    tick()
    store.refundOrder(orders[2]!.id, { shipping: true })
    tick()
    store.cancelOrder(orders[3]!.id, { refund: true })
    tick()
    store.cancelOrder(orders[4]!.id, {})
    tick()
    store.deleteOrder(orders[6]!.id)
    tick()
    store.updateCustomer(customers[0]!.id, { lastName: 'Changed' })
    tick()
    // Deleted objects no order refers to: once deleted, Shopify's Admin API answers null for an
    // order's reference to them (so does the fake), and the read-back stores what it answers.
    const unordered = store.createCustomer({ firstName: 'Nobody', email: 'nobody@example.com' })
    tick()
    store.deleteCustomer(unordered.id)
    tick()
    store.updateProduct(products[0]!.id, { title: 'Board 0 v2' })
    tick()
    const unsold = store.createProduct({ title: 'Unsold', price: 100 })
    tick()
    store.deleteProduct(unsold.id)
    tick()
    store.updateOrder(orders[0]!.id, { tags: ['vip', 'again'] })
    tick()

    // A day and more passes: everything is delivered, in shuffled order, duplicates included.
    fake.clock.advance(2 * DAY)
    await fake.webhooks.idle()
    const deliveries = fake.webhooks.records().filter((r) => r.shop === domain)
    t.ok(deliveries.length >= 40, `${deliveries.length} deliveries`)
    t.ok(
      deliveries.every((r) => r.state === 'delivered'),
      'every delivery acknowledged with 2xx',
    )
    const copies = deliveries.reduce((n, r) => n + r.attempts.length, 0)
    t.ok(
      copies > deliveries.length,
      `duplicates were sent (${copies} posts for ${deliveries.length} webhooks)`,
    )

    // Wait for the worker to apply the inbox.
    const deadline = Date.now() + 60_000
    let pending = -1
    while (Date.now() < deadline) {
      const [row] = await h.ownerQuery<{ n: number }>(
        `SELECT count(*)::int AS n FROM webhook_receipts WHERE tenant_id = $1 AND status = 'received'`,
        [tenant.id],
      )
      pending = row!.n
      if (pending === 0) break
      await sleep(250)
    }
    t.equal(pending, 0, 'the inbox drained')

    const receipts = await h.ownerQuery<{ webhook_id: string; status: string; attempts: number }>(
      'SELECT webhook_id, status, attempts FROM webhook_receipts WHERE tenant_id = $1',
      [tenant.id],
    )
    t.equal(
      receipts.length,
      deliveries.length,
      'one receipt per webhook id, however many copies arrived',
    )
    t.same(new Set(receipts.map((r) => r.webhook_id)), new Set(deliveries.map((d) => d.webhookId)))
    // Each delivery reads its object back from the shop: one of an object deleted since finds
    // nothing to store (skipped); everything else is applied.
    t.ok(
      receipts.every((r) => r.status === 'processed' || r.status === 'skipped'),
      'every receipt processed or skipped',
    )
    t.ok(
      receipts.filter((r) => r.status === 'processed').length > deliveries.length / 2,
      'most receipts applied',
    )

    const diff = diffSnapshots(
      withoutLifetimeStats(await truthSnapshot(fake.origin, domain)),
      withoutLifetimeStats(await dbSnapshot(h.ownerUrl, tenant.id)),
    )
    t.same(diff, [], 'database equals the fake truth')
    const [live] = await h.ownerQuery<{ n: number }>(
      `SELECT count(*)::int AS n FROM orders WHERE tenant_id = $1 AND id = $2 AND deleted_at IS NULL`,
      [tenant.id, orders[6]!.id],
    )
    t.equal(live?.n, 0, 'the deleted order is not live')
    // Analytics read rollups the webhook writers keep: they equal a rebuild from the rows.
    const analytics = createAnalyticsService({ db: h.db })
    const range = { from: '2024-01-01', to: '2028-12-31', granularity: 'month' as const }
    const read = async () => ({
      summary: await analytics.summary(tenant.id, range),
      revenue: await analytics.revenue(tenant.id, range),
      customers: await analytics.customerGrowth(tenant.id, range),
      products: await analytics.topProducts(tenant.id, range),
    })
    const incremental = await read()
    t.not(incremental.summary.current.orders, 0, 'webhook orders reach analytics')
    await withTenant(h.db, tenant.id, (trx) => rebuildAnalyticsRollups(trx, tenant.id))
    t.same(incremental, await read(), 'rollups kept by the webhook writers equal a rebuild')
    t.equal(worker.child.exitCode, null, 'worker still running')
  },
)
