// The rules of DESIGN.md §6 on hand-made rows: refunds lower the day they happen, cancelled,
// test and deleted orders never count (nor do their refunds), empty tenants get zero-filled
// series, and the writer-maintained rollups always equal a recomputation.
import t from 'tap'
import { sql, withTenant } from '@xeno/db'
import { createTestDatabase } from '@xeno/db/testing'
import {
  createAnalyticsService,
  rebuildAnalyticsRollups,
  refreshAnalyticsRollups,
  writeWithRollups,
  NotFoundError,
} from '@xeno/core'
import {
  generateShop,
  insertOrders,
  insertShopRows,
  insertTenant,
  rng,
  withOwner,
  FEWEST_SEEDS,
} from './analytics-fixtures.ts'

const tdb = await createTestDatabase()
t.teardown(tdb.close)
const analytics = createAnalyticsService({ db: tdb.db })

t.test(
  'refunds lower the local day they happen; cancelled, test, deleted never count',
  async (t) => {
    const zone = 'America/New_York'
    const { tenantId } = await withOwner(tdb.ownerUrl, async (c) => {
      const tenantId = await insertTenant(c, { zone, currency: 'EUR' })
      const o = (id: number, at: string, total: string, customer: number | null, extra = '') =>
        c.query(
          `INSERT INTO orders (tenant_id, id, name, customer_id, currency, total_price,
           financial_status, processed_at, created_at, updated_at, test, cancelled_at, deleted_at)
         VALUES ($1, $2, $3, $4, 'EUR', $5, 'PAID', $6, $6, $6,
           ${extra === 'test' ? 'true' : 'false'},
           ${extra === 'cancelled' ? `'2026-03-02T20:00:00Z'` : 'NULL'},
           ${extra === 'deleted' ? `'2026-03-05T00:00:00Z'` : 'NULL'})`,
          [tenantId, id, `#${id}`, customer, total, at],
        )
      const r = (id: number, orderId: number, amount: string, at: string) =>
        c.query(
          `INSERT INTO refunds (tenant_id, id, order_id, amount, created_at) VALUES ($1,$2,$3,$4,$5)`,
          [tenantId, id, orderId, amount, at],
        )
      await o(1, '2026-03-02T15:00:00Z', '100.00', 501) // 10:00 local, 2 March
      // 02:00 UTC on 4 March is 21:00 on 3 March in New York: the refund lowers 3 March.
      await r(11, 1, '30.00', '2026-03-04T02:00:00Z')
      await o(2, '2026-03-02T16:00:00Z', '50.00', 502, 'cancelled')
      await r(21, 2, '50.00', '2026-03-03T12:00:00Z') // refund of a cancelled order: never counts
      await o(3, '2026-03-02T17:00:00Z', '70.00', 503, 'test')
      await o(4, '2026-03-02T18:00:00Z', '80.00', 504, 'deleted')
      await r(41, 4, '80.00', '2026-03-03T12:00:00Z')
      await o(5, '2026-03-04T03:00:00Z', '20.25', null) // guest, 22:00 on 3 March local
      return { tenantId }
    })
    const q = { from: '2026-03-01', to: '2026-03-04', granularity: 'day' as const }
    const rev = await analytics.revenue(tenantId, q)
    t.same(
      rev.series.map((b) => [b.start, b.orders, b.gross_sales, b.refunds, b.net_sales, b.aov]),
      [
        ['2026-03-01', 0, '0.00', '0.00', '0.00', null],
        ['2026-03-02', 1, '100.00', '0.00', '100.00', '100.00'],
        ['2026-03-03', 1, '20.25', '30.00', '-9.75', '20.25'],
        ['2026-03-04', 0, '0.00', '0.00', '0.00', null],
      ],
    )
    t.same(rev.range, { ...q, zone, currency: 'EUR' })
    const sum = await analytics.summary(tenantId, { from: '2026-03-01', to: '2026-03-04' })
    t.equal(sum.current.net_sales, '90.25')
    t.equal(sum.current.customers_ordered, 1, 'the guest order has no customer')
    t.equal(sum.current.aov, '60.13', 'AOV rounds half away from zero: 120.25 / 2')
    const top = await analytics.topCustomers(tenantId, q)
    t.same(
      top.customers.map((c) => [c.customer_id, c.net_spend, c.lifetime_amount_spent]),
      [['501', '70.00', null]],
      'net spend subtracts the refund; a customer we never synced has no lifetime figure',
    )

    // The order is cancelled later (orders/cancelled webhook): its sale and its refund both leave.
    await withOwner(tdb.ownerUrl, (c) =>
      c.query(`UPDATE orders SET cancelled_at = now() WHERE tenant_id = $1 AND id = 1`, [tenantId]),
    )
    await withTenant(tdb.db, tenantId, (trx) =>
      refreshAnalyticsRollups(trx, tenantId, { orderIds: ['1'] }),
    )
    const after = await analytics.revenue(tenantId, q)
    t.same(
      after.series.map((b) => [b.start, b.gross_sales, b.refunds]),
      [
        ['2026-03-01', '0.00', '0.00'],
        ['2026-03-02', '0.00', '0.00'],
        ['2026-03-03', '20.25', '0.00'],
        ['2026-03-04', '0.00', '0.00'],
      ],
    )
  },
)

t.test('a tenant with no data gets zero-filled series everywhere', async (t) => {
  const tenantId = await withOwner(tdb.ownerUrl, (c) =>
    insertTenant(c, { zone: 'Australia/Sydney' }),
  )
  const q = { from: '2026-02-25', to: '2026-03-10', granularity: 'week' as const }
  const rev = await analytics.revenue(tenantId, q)
  t.same(
    rev.series.map((b) => [b.start, b.end, b.orders, b.gross_sales, b.aov]),
    [
      ['2026-02-25', '2026-03-01', 0, '0.00', null],
      ['2026-03-02', '2026-03-08', 0, '0.00', null],
      ['2026-03-09', '2026-03-10', 0, '0.00', null],
    ],
  )
  const orders = await analytics.orders(tenantId, q)
  t.same(
    orders.series.map((b) => [b.orders, b.by_financial_status]),
    [
      [0, {}],
      [0, {}],
      [0, {}],
    ],
  )
  const ev = await analytics.events(tenantId, q)
  t.same(ev.totals, { total: 0, by_type: {} })
  t.equal(ev.series.length, 3)
  t.same(ev.funnel.rate, null, 'no checkout started: the rate is null, not 0 or NaN')
  t.same(
    (await analytics.customerGrowth(tenantId, q)).series.map((b) => b.running_total),
    [0, 0, 0],
  )
  t.same((await analytics.productGrowth(tenantId, q)).series.length, 3)
  t.same((await analytics.topCustomers(tenantId, q)).customers, [])
  t.same((await analytics.topProducts(tenantId, q)).products, [])
  const s = await analytics.summary(tenantId, q)
  t.same(s.current, {
    gross_sales: '0.00',
    refunds: '0.00',
    net_sales: '0.00',
    orders: 0,
    aov: null,
    customers_ordered: 0,
    new_customers: 0,
    returning_customers: 0,
    returning_customer_rate: null,
    new_products: 0,
    events: 0,
  })
  const month = await analytics.revenue(tenantId, { ...q, granularity: 'month' })
  t.same(
    month.series.map((b) => [b.start, b.end]),
    [
      ['2026-02-25', '2026-02-28'],
      ['2026-03-01', '2026-03-10'],
    ],
  )
})

t.test('an unknown tenant is 404, also to another tenant', async (t) => {
  await t.rejects(analytics.revenue('00000000-0000-4000-8000-000000000000', {}), NotFoundError)
})

type Snapshot = Record<string, unknown[]>
async function snapshot(tenantId: string): Promise<Snapshot> {
  return withOwner(tdb.ownerUrl, async (c) => {
    const out: Snapshot = {}
    for (const [table, order] of [
      ['daily_metrics', 'day, financial_status, fulfillment_status'],
      ['daily_product_metrics', 'day, product_id'],
      ['monthly_product_metrics', 'month, product_id'],
      ['daily_event_metrics', 'day, event_type'],
      ['customer_order_stats', 'customer_id'],
      ['customer_daily_metrics', 'customer_id, day'],
      ['customer_refund_metrics', 'customer_id, order_day, refund_day'],
      ['customer_spend_windows', 'customer_id, start_month'],
      ['customer_return_days', 'day, prev_day'],
      ['daily_customer_metrics', 'day'],
      ['cohort_metrics', 'granularity, cohort, period'],
    ] as const) {
      const { rows } = await c.query(
        `SELECT * FROM ${table} WHERE tenant_id = $1 ORDER BY ${order}`,
        [tenantId],
      )
      out[table] = rows.map((r: Record<string, unknown>) => ({
        ...r,
        ...Object.fromEntries(
          Object.entries(r).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]),
        ),
      }))
    }
    return out
  })
}

t.test('rollups kept by the writers equal a full recomputation', async (t) => {
  const zone = 'Asia/Kolkata'
  const data = generateShop({
    seed: 5,
    zone,
    from: '2026-01-01T00:00:00Z',
    to: '2026-03-01T00:00:00Z',
    orders: 800,
    customers: 150,
    products: 30,
    events: 0,
  })
  const tenantId = await withOwner(tdb.ownerUrl, async (c) => {
    const id = await insertTenant(c, { zone })
    await insertShopRows(c, id, { ...data, orders: [] })
    return id
  })
  await withTenant(tdb.db, tenantId, (trx) => rebuildAnalyticsRollups(trx, tenantId))
  for (let i = 0; i < data.orders.length; i += 200) {
    const batch = data.orders.slice(i, i + 200)
    await withOwner(tdb.ownerUrl, (c) => insertOrders(c, tenantId, batch))
    await withTenant(tdb.db, tenantId, (trx) =>
      refreshAnalyticsRollups(trx, tenantId, { orderIds: batch.map((o) => o.id) }),
    )
  }
  const r0 = rng(7)
  // What webhooks do afterwards: cancel, refund, delete, move processed_at, change status; and
  // customers deleted or re-dated.
  for (let n = 0; n < 20; n++) {
    const cu = data.customers[Math.floor(r0() * data.customers.length)]!
    const before = await withOwner(tdb.ownerUrl, async (c) => {
      const { rows } = await c.query<{ created_at: Date }>(
        'SELECT created_at FROM customers WHERE tenant_id = $1 AND id = $2',
        [tenantId, cu.id],
      )
      await c.query(
        n % 2
          ? 'UPDATE customers SET deleted_at = now() WHERE tenant_id = $1 AND id = $2'
          : `UPDATE customers SET created_at = created_at - interval '2 days 5 hours'
             WHERE tenant_id = $1 AND id = $2`,
        [tenantId, cu.id],
      )
      return rows[0]!.created_at
    })
    await withTenant(tdb.db, tenantId, (trx) =>
      refreshAnalyticsRollups(trx, tenantId, { customerIds: [cu.id], instants: [before] }),
    )
  }
  const r = rng(99)
  const pick = () => data.orders[Math.floor(r() * data.orders.length)]!
  for (let n = 0; n < 60; n++) {
    const o = pick()
    const kind = n % 5
    const before = await withOwner(tdb.ownerUrl, async (c) => {
      const { rows } = await c.query<{ processed_at: Date }>(
        'SELECT processed_at FROM orders WHERE tenant_id = $1 AND id = $2',
        [tenantId, o.id],
      )
      if (kind === 0)
        await c.query('UPDATE orders SET cancelled_at = now() WHERE tenant_id = $1 AND id = $2', [
          tenantId,
          o.id,
        ])
      if (kind === 1)
        await c.query(
          `INSERT INTO refunds (tenant_id, id, order_id, amount, created_at)
           VALUES ($1, $2, $3, 1.23, '2026-02-20T20:00:00Z') ON CONFLICT DO NOTHING`,
          [tenantId, 90_000 + n, o.id],
        )
      if (kind === 2)
        await c.query('UPDATE orders SET deleted_at = now() WHERE tenant_id = $1 AND id = $2', [
          tenantId,
          o.id,
        ])
      if (kind === 3)
        await c.query(
          `UPDATE orders SET processed_at = processed_at + interval '3 days 7 hours'
           WHERE tenant_id = $1 AND id = $2`,
          [tenantId, o.id],
        )
      if (kind === 4)
        await c.query(
          `UPDATE orders SET financial_status = 'PARTIALLY_REFUNDED', test = (id % 2 = 0)
           WHERE tenant_id = $1 AND id = $2`,
          [tenantId, o.id],
        )
      return rows[0]!.processed_at
    })
    await withTenant(tdb.db, tenantId, (trx) =>
      refreshAnalyticsRollups(trx, tenantId, {
        orderIds: [o.id],
        instants: kind === 3 ? [before] : [],
      }),
    )
  }
  // An order moved to another customer (or to a guest) through the writers' wrapper: the former
  // customer's per-customer rollups are recomputed too.
  for (let n = 0; n < 12; n++) {
    const o = pick()
    const to = n % 3 === 0 ? null : data.customers[Math.floor(r() * data.customers.length)]!.id
    await withTenant(tdb.db, tenantId, (trx) =>
      writeWithRollups(trx, tenantId, { orderIds: [String(o.id)] }, () =>
        sql`UPDATE orders SET customer_id = ${to} WHERE tenant_id = ${tenantId} AND id = ${o.id}`.execute(
          trx,
        ),
      ),
    )
  }
  const incremental = await snapshot(tenantId)
  t.ok((incremental.customer_daily_metrics ?? []).length > 100, 'per-customer days are kept')
  t.ok((incremental.customer_refund_metrics ?? []).length > 0, 'per-customer refunds are kept')
  t.ok((incremental.customer_spend_windows ?? []).length > 100, 'spend windows are kept')
  t.ok((incremental.customer_return_days ?? []).length > 50, 'return days are kept')
  t.ok((incremental.cohort_metrics ?? []).length > 20, 'cohort cells are kept')
  t.ok((incremental.daily_metrics ?? []).length > 50, 'the rollups hold data')
  await withTenant(tdb.db, tenantId, (trx) => rebuildAnalyticsRollups(trx, tenantId))
  const rebuilt = await snapshot(tenantId)
  t.strictSame(incremental, rebuilt, 'incremental rollups equal a full rebuild')

  // The comparison can fail: a write the writers forget to refresh shows up as a difference.
  await withOwner(tdb.ownerUrl, (c) =>
    c.query(
      `INSERT INTO refunds (tenant_id, id, order_id, amount, created_at)
       SELECT $1, 99999, id, 5.00, '2026-02-27T10:00:00Z' FROM orders
       WHERE tenant_id = $1 AND NOT test AND cancelled_at IS NULL AND deleted_at IS NULL LIMIT 1`,
      [tenantId],
    ),
  )
  const stale = await snapshot(tenantId)
  await withTenant(tdb.db, tenantId, (trx) => rebuildAnalyticsRollups(trx, tenantId))
  t.notSame(stale, await snapshot(tenantId), 'a write without refresh leaves a difference')
})

t.test('a changed shop zone rebuilds the rollups on the next read', async (t) => {
  const tenantId = await withOwner(tdb.ownerUrl, async (c) => {
    const id = await insertTenant(c, { zone: 'UTC' })
    await c.query(
      `INSERT INTO orders (tenant_id, id, name, currency, total_price, processed_at, created_at,
         updated_at) VALUES ($1, 1, '#1', 'USD', 10, $2, $2, $2)`,
      [id, '2026-03-02T23:30:00Z'],
    )
    return id
  })
  const q = { from: '2026-03-02', to: '2026-03-03' }
  const utc = await analytics.revenue(tenantId, q)
  t.same(
    utc.series.map((b) => b.orders),
    [1, 0],
  )
  await withOwner(tdb.ownerUrl, (c) =>
    c.query(`UPDATE tenants SET iana_timezone = 'Asia/Kolkata' WHERE id = $1`, [tenantId]),
  )
  const ist = await analytics.revenue(tenantId, q)
  t.same(
    ist.series.map((b) => b.orders),
    [0, 1],
    '23:30 UTC is the next morning in Kolkata',
  )
  t.equal(ist.range.zone, 'Asia/Kolkata')
  const state = await withTenant(tdb.db, tenantId, async (trx) =>
    sql<{ z: string }>`SELECT iana_timezone AS z FROM analytics_rollup_state`.execute(trx),
  )
  t.same(
    state.rows.map((r) => r.z),
    ['Asia/Kolkata'],
  )
})

t.test(
  'top customers from spend windows equal a plain computation where pruning matters',
  async (t) => {
    // Lifetime and window bounds far from range spend: big spenders outside the range (inside its
    // four-month window, and before it), a tie at the k-th place, refunds in the range pushing
    // customers down (and refunds after it that do not), odd negative amounts, cancelled and test
    // orders with huge totals.
    const from = '2026-05-10'
    const to = '2026-07-20'
    type O = {
      id: number
      customer: number
      day: string
      total: number
      kind?: 'test' | 'cancelled'
    }
    type R = { order: number; day: string; amount: number }
    const orders: O[] = []
    const refunds: R[] = []
    const r = rng(77)
    let next = 1
    const order = (customer: number, day: string, cents: number, kind?: O['kind']) => {
      const o = { id: next++, customer, day, total: cents, kind }
      orders.push(o)
      return o
    }
    const dayIn = (a: string, span: number) => {
      const d = new Date(Date.parse(`${a}T00:00:00Z`) + Math.floor(r() * span) * 86_400_000)
      return d.toISOString().slice(0, 10)
    }
    // Ordinary customers 1-400: a few orders each over March-September.
    for (let c = 1; c <= 400; c++)
      for (let n = 0; n < 1 + Math.floor(r() * 4); n++)
        order(c, dayIn('2026-03-01', 200), 500 + Math.floor(r() * 40_000))
    // Whales 1001-1030: the highest caps and lifetimes, nothing in the range.
    for (let c = 1001; c <= 1030; c++) {
      order(c, '2026-05-02', 900_000 + c)
      order(c, '2026-07-25', 800_000)
      order(c, '2026-01-15', 2_000_000)
    }
    // A tie at the top: customers 2001-2006 with exactly 3000.00 each, only in the range.
    for (let c = 2001; c <= 2006; c++) order(2001 + 2006 - c, '2026-06-01', 300_000)
    // High gross in the range, pushed below the tie by a refund in the range.
    const pushed = order(3001, '2026-06-10', 500_000)
    refunds.push({ order: pushed.id, day: '2026-07-01', amount: 250_000 })
    // A refund after the range does not lower the range.
    const kept = order(3002, '2026-06-11', 310_000)
    refunds.push({ order: kept.id, day: '2026-07-25', amount: 300_000 })
    // A refund in the range of an order before it does not count either.
    const early = order(3003, '2026-05-05', 400_000)
    refunds.push({ order: early.id, day: '2026-06-01', amount: 400_000 })
    order(3003, '2026-06-02', 290_000)
    // Negative amounts: a negative refund raises net spend above the order's total.
    const odd = order(3004, '2026-06-03', 200_000)
    refunds.push({ order: odd.id, day: '2026-06-04', amount: -120_000 })
    order(3005, '2026-06-05', 400_000)
    order(3005, '2026-06-06', -150_000)
    // Never counted.
    order(3006, '2026-06-07', 9_000_000, 'test')
    order(3007, '2026-06-08', 9_000_000, 'cancelled')
    refunds.forEach((x, i) => Object.assign(x, { id: i + 1 }))

    const tenantId = await withOwner(tdb.ownerUrl, async (c) => {
      const id = await insertTenant(c, { zone: 'UTC' })
      const money = (cents: number) => (cents / 100).toFixed(2)
      for (const o of orders) {
        const at = `${o.day}T12:00:00Z`
        await c.query(
          `INSERT INTO orders (tenant_id, id, name, customer_id, currency, total_price, processed_at,
           created_at, updated_at, test, cancelled_at)
         VALUES ($1, $2, $3, $4, 'USD', $5, $6, $6, $6, $7, $8)`,
          [
            id,
            o.id,
            `#${o.id}`,
            o.customer,
            money(o.total),
            at,
            o.kind === 'test',
            o.kind === 'cancelled' ? at : null,
          ],
        )
      }
      for (const [i, x] of refunds.entries())
        await c.query(
          `INSERT INTO refunds (tenant_id, id, order_id, amount, created_at) VALUES ($1,$2,$3,$4,$5)`,
          [id, i + 1, x.order, money(x.amount), `${x.day}T12:00:00Z`],
        )
      return id
    })
    await withTenant(tdb.db, tenantId, (trx) => rebuildAnalyticsRollups(trx, tenantId))

    // Plain TypeScript: net spend in cents of the counted orders in the range, less their refunds
    // in the range; ranked by net spend, then id.
    const expected = (f: string, l: string, limit: number) => {
      const inRange = (d: string) => d >= f && d <= l
      const net = new Map<number, number>()
      const byId = new Map(orders.map((o) => [o.id, o]))
      for (const o of orders)
        if (!o.kind && inRange(o.day)) net.set(o.customer, (net.get(o.customer) ?? 0) + o.total)
      for (const x of refunds) {
        const o = byId.get(x.order)!
        if (!o.kind && inRange(o.day) && inRange(x.day))
          net.set(o.customer, net.get(o.customer)! - x.amount)
      }
      return [...net]
        .sort((a, b) => b[1] - a[1] || a[0] - b[0])
        .slice(0, limit)
        .map(([id, cents]) => [String(id), (cents / 100).toFixed(2)])
    }
    const services = {
      'default ranking': analytics,
      'windows, seeds = limit': createAnalyticsService({ db: tdb.db, ranking: FEWEST_SEEDS }),
      'windows, 40 seeds': createAnalyticsService({
        db: tdb.db,
        ranking: {
          scanMaxOrders: 150_000,
          candidateBatch: 200,
          windowSeeds: 40,
          windowMaxCandidates: 20_000,
        },
      }),
      'full scan': createAnalyticsService({
        db: tdb.db,
        ranking: {
          scanMaxOrders: 1e9,
          candidateBatch: 200,
          windowSeeds: 0,
          windowMaxCandidates: 0,
        },
      }),
    }
    const top = expected(from, to, 100)
    t.same(
      top.slice(0, 11).map((x) => x.join(' ')),
      [
        '3004 3200.00',
        '3002 3100.00',
        ...[2001, 2002, 2003, 2004, 2005, 2006].map((c) => `${c} 3000.00`),
        '3003 2900.00',
        '3001 2500.00',
        '3005 2500.00',
      ],
      'the plain computation ranks the hand-made customers as intended',
    )
    for (const [name, service] of Object.entries(services))
      for (const [f, l] of [
        [from, to],
        ['2026-06-01', '2026-06-30'],
        ['2026-05-01', '2026-08-31'],
      ])
        for (const limit of [1, 3, 5, 7, 20, 100]) {
          const got = await service.topCustomers(tenantId, { from: f, to: l, limit })
          t.strictSame(
            got.customers.map((c) => [c.customer_id, c.net_spend]),
            expected(f!, l!, limit),
            `${name}: ${f}..${l}, top ${limit}`,
          )
        }
  },
)
