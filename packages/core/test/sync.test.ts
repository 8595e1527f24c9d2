import { randomBytes, randomUUID } from 'node:crypto'
import pg from 'pg'
import t, { type Test } from 'tap'
import { withTenant } from '@xeno/db'
import {
  createAnalyticsService,
  rebuildAnalyticsRollups,
} from '../src/analytics/analytics.service.ts'
import { createTestDatabase } from '@xeno/db/testing'
import { createLogger } from '@xeno/logger'
import { createShopifyAdmin } from '@xeno/shopify'
import { createFakeShopify } from '@xeno/shopify-fake'
import { createTokenCipher } from '../src/crypto/token-cipher.ts'
import { createShopAccessService } from '../src/credentials/shop-access.service.ts'
import { createSyncService } from '../src/sync/sync.service.ts'
import { dbSnapshot, diffSnapshots, truthSnapshot } from './support/truth.ts'

const log = createLogger({ level: 'silent' })

async function setup(t: Test, shopParams: { orders: number; customers: number; products: number }) {
  const tdb = await createTestDatabase()
  const fake = await createFakeShopify()
  t.teardown(async () => {
    await fake.close()
    await tdb.close()
  })
  const domain = `s${randomBytes(4).toString('hex')}.myshopify.com`
  const shop = fake.createShop({ domain, seed: 7, ...shopParams })
  const tenantId = randomUUID()
  const owner = new pg.Client({ connectionString: tdb.ownerUrl })
  await owner.connect()
  await owner.query(`INSERT INTO tenants (id, shop_domain, status) VALUES ($1, $2, 'active')`, [
    tenantId,
    domain,
  ])
  await owner.end()
  const cipher = createTokenCipher({ current: randomBytes(32) })
  const admin = createShopifyAdmin({
    clientId: 'fake-client-id',
    clientSecret: 'fake-client-secret',
    adminOrigin: fake.origin,
    backoffBaseMs: 20,
    backoffMaxMs: 200,
  })
  const access = createShopAccessService({ db: tdb.db, cipher, refresh: admin.refreshAccessToken })
  await access.storeGrant(tenantId, {
    accessToken: shop.accessToken,
    scope: shop.scope,
    expiresAt: null,
    refreshToken: null,
    refreshExpiresAt: null,
  })
  const sync = createSyncService({
    db: tdb.db,
    admin,
    access,
    log,
    options: { lagMs: 0, bulkPollMs: 20 },
  })
  const check = async () =>
    diffSnapshots(
      await truthSnapshot(fake.origin, domain),
      await dbSnapshot(tdb.ownerUrl, tenantId),
    )
  return { tdb, fake, domain, shop, tenantId, sync, admin, access, check, store: fake.shop(domain) }
}

t.test(
  'backfill, incremental and reconcile make Postgres equal the fake, row for row',
  async (t) => {
    const s = await setup(t, { orders: 600, customers: 80, products: 25 })
    for (const r of ['shop', 'customers', 'products', 'orders'] as const) {
      const out = await s.sync.run(s.tenantId, r, 'incremental')
      t.equal(out.status, 'done', `${r} synced`)
    }
    t.same(await s.check(), [], 'after backfill')
    const [tenantRow] = await s.tdb.ownerQuery<{ shopify_shop_id: string }>(
      'SELECT shopify_shop_id FROM tenants WHERE id = $1',
      [s.tenantId],
    )
    t.equal(
      tenantRow?.shopify_shop_id,
      String(s.shop.shopId),
      'the shop sync records the Shopify shop id',
    )
    const cps = await s.sync.checkpoints(s.tenantId)
    t.ok(cps.find((c) => c.resource === 'orders')?.cursorUpdatedAt, 'orders checkpoint set')

    // Changes after the backfill: update, cancel, refund, new order, new customer, product edit.
    await new Promise((r) => setTimeout(r, 1100))
    const d = s.store.data()
    const ids: number[] = []
    for (let i = 0; i < 6; i++)
      ids.push(
        (await import('@xeno/shopify-fake')).generateOrder(
          d.spec,
          i * 50 + 3,
          d.baseProduct,
          d.baseCustomer,
        ).id,
      )
    s.store.updateOrder(ids[0]!, { tags: ['vip'], email: 'changed@example.com' })
    try {
      s.store.cancelOrder(ids[1]!, { reason: 'FRAUD' })
    } catch {
      s.store.updateOrder(ids[1]!, { email: 'x@example.com' })
    }
    try {
      s.store.refundOrder(ids[2]!, {})
    } catch {
      s.store.updateOrder(ids[2]!, { email: 'y@example.com' })
    }
    s.store.createOrder({ lineItems: [{}, {}] })
    const cust = s.store.createCustomer({ firstName: 'Zed' })
    const prod = d.products.find((p) => p !== null)!
    s.store.updateProduct(prod.id, { title: 'Renamed' })
    await new Promise((r) => setTimeout(r, 50))
    for (const r of ['orders', 'customers', 'products'] as const) {
      const out = await s.sync.run(s.tenantId, r, 'incremental')
      t.equal(out.status, 'done')
      if (out.status === 'done') t.equal(out.mode, 'incremental')
    }
    const db = await dbSnapshot(s.tdb.ownerUrl, s.tenantId)
    const truth = await truthSnapshot(s.fake.origin, s.domain)
    t.equal(db.orders.get(String(ids[0])), truth.orders.get(String(ids[0])), 'updated order synced')
    t.equal(
      db.orders.get(String(ids[1])),
      truth.orders.get(String(ids[1])),
      'cancelled order synced',
    )
    t.equal(
      db.orders.get(String(ids[2])),
      truth.orders.get(String(ids[2])),
      'refunded order synced',
    )
    t.same(
      diffSnapshots({ ...truth, customers: new Map() }, { ...db, customers: new Map() }),
      [],
      'orders, products, children equal',
    )
    t.ok(db.customers.has(String(cust.id)), 'new customer synced')

    // Analytics read rollups the sync keeps (rebuilt after the backfill, refreshed per page).
    const analytics = createAnalyticsService({ db: s.tdb.db })
    const range = { from: '2025-06-01', to: '2027-05-31', granularity: 'month' as const }
    const read = async () => ({
      summary: await analytics.summary(s.tenantId, range),
      revenue: await analytics.revenue(s.tenantId, range),
      customers: await analytics.customerGrowth(s.tenantId, range),
      top: await analytics.topCustomers(s.tenantId, { ...range, limit: 10 }),
    })
    const kept = await read()
    t.not(kept.summary.current.orders, 0, 'synced orders reach analytics')
    await withTenant(s.tdb.db, s.tenantId, (trx) => rebuildAnalyticsRollups(trx, s.tenantId))
    t.same(kept, await read(), 'rollups kept by the sync equal a rebuild')

    // Deletions are only visible to reconciliation (no deletion events for orders/customers).
    s.store.deleteOrder(ids[3]!)
    s.store.deleteCustomer(cust.id)
    for (const r of ['orders', 'customers', 'products'] as const) {
      const out = await s.sync.run(s.tenantId, r, 'reconcile')
      t.equal(out.status, 'done')
    }
    t.same(await s.check(), [], 'after reconciliation, deletions included')

    // A writer that ran during the snapshot (an incremental page fetched just before Shopify
    // deleted the order, a late webhook) stored the row after the snapshot began; it last changed
    // in Shopify before the snapshot, and the snapshot lacks it: deleted, not kept a day longer.
    s.store.deleteOrder(ids[4]!)
    await s.tdb.ownerQuery(
      `UPDATE orders SET synced_at = now() + interval '1 hour' WHERE tenant_id = $1 AND id = $2`,
      [s.tenantId, ids[4]],
    )
    // (customers too: Shopify's order count and amount spent of its customer changed)
    for (const r of ['orders', 'customers'] as const)
      t.equal((await s.sync.run(s.tenantId, r, 'reconcile')).status, 'done')
    t.same(await s.check(), [], 'a row written during the snapshot but deleted before it is gone')
  },
)
