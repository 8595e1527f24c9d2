// The guarded upserts shared by sync and webhooks: order of arrival never matters.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import t from 'tap'
import { withTenant } from '@xeno/db'
import { createTestDatabase } from '@xeno/db/testing'
import type { CustomerRow, OrderBundle } from '@xeno/shopify'
import { markDeleted, upsertCustomers, upsertOrders } from '../src/store/store.repository.ts'

const order = (
  updatedAt: string,
  extra: Partial<OrderBundle['order']> = {},
  lines = 2,
): OrderBundle => ({
  order: {
    id: '5600000000001',
    name: '#1001',
    email: 'a@example.com',
    customerId: null,
    currency: 'USD',
    totalPrice: '10.5',
    subtotalPrice: '10.5',
    totalTax: '0',
    totalDiscounts: '0',
    totalShipping: '0',
    totalRefunded: '0',
    financialStatus: 'paid',
    fulfillmentStatus: 'unfulfilled',
    cancelledAt: null,
    cancelReason: null,
    closedAt: null,
    processedAt: '2026-01-01T00:00:00Z',
    test: false,
    createdAt: '2026-01-01T00:00:00Z',
    updatedAt,
    ...extra,
  },
  lineItems: Array.from({ length: lines }, (_, k) => ({
    id: String(900 + k),
    orderId: '5600000000001',
    productId: null,
    variantId: null,
    title: `L${k}`,
    sku: null,
    quantity: 1,
    unitPrice: '5.25',
    discountedTotal: '5.25',
  })),
  refunds: [],
})

t.test(
  'updated_at guard, atomic children, no resurrection, REST rows keep what they lack',
  async (t) => {
    const tdb = await createTestDatabase()
    t.teardown(tdb.close)
    const tenantId = randomUUID()
    const owner = new pg.Client({ connectionString: tdb.ownerUrl })
    await owner.connect()
    t.teardown(() => owner.end())
    await owner.query(`INSERT INTO tenants (id, shop_domain) VALUES ($1, 'guard.myshopify.com')`, [
      tenantId,
    ])
    const q = async (sql: string) => (await owner.query(sql)).rows

    await withTenant(tdb.db, tenantId, (trx) =>
      upsertOrders(trx, tenantId, [order('2026-01-02T00:00:00Z', { email: 'new@example.com' }, 3)]),
    )
    const stale = await withTenant(tdb.db, tenantId, (trx) =>
      upsertOrders(trx, tenantId, [order('2026-01-01T12:00:00Z', { email: 'old@example.com' }, 1)]),
    )
    t.same(stale, [], 'an older payload is not applied')
    t.same(await q(`SELECT email FROM orders`), [{ email: 'new@example.com' }])
    t.equal((await q(`SELECT id FROM order_line_items`)).length, 3, 'nor are its children')
    await withTenant(tdb.db, tenantId, (trx) =>
      upsertOrders(trx, tenantId, [order('2026-01-03T00:00:00Z', {}, 1)]),
    )
    t.equal(
      (await q(`SELECT id FROM order_line_items`)).length,
      1,
      'a newer one replaces the children',
    )
    // Duplicates in one batch: the newest wins, no "cannot affect row a second time".
    await withTenant(tdb.db, tenantId, (trx) =>
      upsertOrders(trx, tenantId, [
        order('2026-01-04T00:00:00Z', { email: 'x@x' }),
        order('2026-01-05T00:00:00Z', { email: 'y@y' }),
      ]),
    )
    t.same(await q(`SELECT email FROM orders`), [{ email: 'y@y' }])

    await withTenant(tdb.db, tenantId, (trx) =>
      markDeleted(trx, tenantId, 'orders', ['5600000000001'], new Date('2026-01-06T00:00:00Z')),
    )
    await withTenant(tdb.db, tenantId, (trx) =>
      upsertOrders(trx, tenantId, [order('2026-01-05T12:00:00Z', { email: 'late@x' })]),
    )
    t.same(
      await q(`SELECT email, deleted_at IS NOT NULL AS deleted FROM orders`),
      [{ email: 'y@y', deleted: true }],
      'an older update does not resurrect',
    )

    const cust = (updatedAt: string, o: Partial<CustomerRow>): CustomerRow => ({
      id: '7100000000001',
      email: 'c@example.com',
      firstName: 'C',
      lastName: 'D',
      phone: null,
      state: 'enabled',
      tags: ['vip'],
      numberOfOrders: '3',
      amountSpent: '99.5',
      createdAt: '2026-01-01T00:00:00Z',
      updatedAt,
      ...o,
    })
    await withTenant(tdb.db, tenantId, (trx) =>
      upsertCustomers(trx, tenantId, [cust('2026-01-02T00:00:00Z', {})]),
    )
    await withTenant(tdb.db, tenantId, (trx) =>
      upsertCustomers(trx, tenantId, [
        cust('2026-01-03T00:00:00Z', {
          firstName: 'Webhook',
          tags: null,
          numberOfOrders: null,
          amountSpent: null,
        }),
      ]),
    )
    t.same(
      await q(`SELECT first_name, tags, number_of_orders, amount_spent::text FROM customers`),
      [{ first_name: 'Webhook', tags: ['vip'], number_of_orders: '3', amount_spent: '99.5000' }],
      'fields a REST payload lacks are kept',
    )
  },
)
