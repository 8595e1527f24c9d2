// Bulk staging (COPY FROM STDIN, text format) round-trips awkward values exactly: what the
// normalisers produced is what the final tables hold after the merge.
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import t from 'tap'
import type { Database } from '@xeno/db'
import { createTestDatabase } from '@xeno/db/testing'
import type { CustomerRow, LineItemRow, OrderRow, ProductRow, RefundRow } from '@xeno/shopify'
import { copyField, copyTextArray } from '../src/sync/copy-text.ts'
import { createSyncRepository } from '../src/sync/sync.repository.ts'

const AWKWARD = [
  'tab\there',
  'new\nline',
  'carriage\r\nreturn',
  'back\\slash \\N \\t \\\\',
  '\\.',
  '\\N',
  'quotes "double" and \'single\'',
  'comma, {brace} [bracket]',
  'unicode ✓ 日本語 ümlaut 😀 \u200b',
  '',
  ' leading and trailing ',
  'NULL',
]
const LONG = `${'very long title ✓\t'.repeat(12_000)}end`
const BIG = ['9007199254740993', '9223372036854775807', '18014398509481985']
// Money columns are numeric(20,4): what is sent → what is stored (the unnest path rounds alike).
const MONEY = new Map([
  ['12345678901234.123456789012', '12345678901234.1235'],
  ['0.000000001', '0.0000'],
  ['-0.10', '-0.1000'],
  ['1e3', '1000.0000'],
  ['9999999999999999.99994', '9999999999999999.9999'],
  ['2.00005', '2.0001'],
  ['0', '0.0000'],
])
const money = (i: number) => [...MONEY.keys()][i % MONEY.size]!
const expectMoney = (m: string) => MONEY.get(m)!
const text = (i: number) => AWKWARD[i % AWKWARD.length]!
const at = (i: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, i, i % 1000)).toISOString()

t.test('copy text: fields and arrays are escaped', async (t) => {
  t.equal(copyField(null), '\\N')
  t.equal(copyField('\\N'), '\\\\N')
  t.equal(copyField('a\tb\nc\rd\\e'), 'a\\tb\\nc\\rd\\\\e')
  t.equal(copyTextArray([]), '{}')
  t.equal(copyTextArray(['a"b', 'c\\d', 'e\tf']), '{"a\\\\"b","c\\\\\\\\d","e\\tf"}')
})

t.test('COPY staging round-trips awkward values into the final tables', async (t) => {
  const tdb = await createTestDatabase()
  const owner = new pg.Client({ connectionString: tdb.ownerUrl })
  await owner.connect()
  t.teardown(async () => {
    await owner.end()
    await tdb.close()
  })
  const tenantId = randomUUID()
  await owner.query(`INSERT INTO tenants (id, shop_domain, status) VALUES ($1, $2, 'active')`, [
    tenantId,
    `s${tenantId.slice(0, 8)}.myshopify.com`,
  ])
  const repo = createSyncRepository(tdb.db)

  const orders: OrderRow[] = []
  const lines: LineItemRow[] = []
  const refunds: RefundRow[] = []
  for (let i = 0; i < 40; i++) {
    const id = i < BIG.length ? BIG[i]! : String(5_600_000_000_000 + i)
    orders.push({
      id,
      name: text(i),
      email: i % 3 === 0 ? null : text(i + 1),
      customerId: i % 2 ? null : BIG[i % BIG.length]!,
      currency: 'USD',
      totalPrice: money(i),
      subtotalPrice: money(i + 1),
      totalTax: money(i + 2),
      totalDiscounts: '0',
      totalShipping: money(i + 3),
      totalRefunded: money(i + 4),
      financialStatus: i % 4 ? 'paid' : null,
      fulfillmentStatus: i % 5 ? text(i + 2) : null,
      cancelledAt: i % 6 ? null : at(i + 7),
      cancelReason: i % 6 ? null : text(i + 3),
      closedAt: i % 7 ? null : at(i + 8),
      processedAt: at(i),
      test: i % 9 === 0,
      createdAt: at(i),
      updatedAt: at(i + 1),
    })
    for (let k = 0; k < 3; k++)
      lines.push({
        id: k === 0 && i < BIG.length ? `${BIG[i]!.slice(0, -1)}${k + 2}` : String(i * 10 + k + 1),
        orderId: id,
        productId: k === 1 ? null : BIG[(i + k) % BIG.length]!,
        variantId: k === 2 ? null : String(i * 100 + k),
        title: i === 7 && k === 0 ? LONG : text(i + k),
        sku: k === 2 ? null : text(i + k + 5),
        quantity: i * 3 + k - 10,
        unitPrice: money(i + k),
        discountedTotal: money(i + k + 2),
      })
    if (i % 2)
      refunds.push({
        id: String(700_000 + i),
        orderId: id,
        amount: money(i),
        createdAt: at(i + 2),
        processedAt: i % 4 === 1 ? null : at(i + 3),
      })
  }
  const customers: CustomerRow[] = AWKWARD.map((s, i) => ({
    id: i < BIG.length ? BIG[i]! : String(3_000 + i),
    email: i % 4 ? s : null,
    firstName: s,
    lastName: i === 2 ? LONG : text(i + 1),
    phone: i % 2 ? null : text(i + 2),
    state: 'enabled',
    tags: i % 5 === 4 ? null : [s, 'a,b', 'q"uote', 'back\\slash', '', 'NULL', '{x}', 'tab\t✓'],
    numberOfOrders: i % 3 === 2 ? null : String(i * 1_000_000_007),
    amountSpent: i % 3 === 2 ? null : money(i),
    createdAt: at(i),
    updatedAt: at(i + 1),
  }))
  const products: ProductRow[] = AWKWARD.map((s, i) => ({
    id: i < BIG.length ? BIG[i]! : String(4_000 + i),
    title: i === 1 ? LONG : s,
    handle: i % 2 ? null : text(i + 1),
    productType: text(i + 2),
    vendor: i % 3 ? text(i + 3) : null,
    status: 'active',
    createdAt: at(i),
    updatedAt: at(i + 1),
    publishedAt: i % 2 ? null : at(i + 2),
  }))

  const merge = async (
    resource: 'orders' | 'customers' | 'products',
    stage: (conn: Database) => Promise<void>,
  ) => {
    const runId = await repo.startRun(tenantId, resource, 'full', null)
    return tdb.db.connection().execute(async (conn) => {
      await repo.createStage(conn, resource)
      // Small batches: several COPYs per table, as a real stream does.
      await stage(conn)
      const out = await repo.mergeStage(conn, tenantId, resource, {
        snapshotAt: new Date(),
        cursorAt: new Date(),
        runId,
        deleteMissing: true,
      })
      await repo.dropStage(conn)
      return out
    })
  }
  const chunks = <T>(xs: T[], n: number) =>
    Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n))

  const om = await merge('orders', async (conn) => {
    const oc = chunks(orders, 7)
    const lc = chunks(lines, 13)
    const rc = chunks(refunds, 5)
    for (let i = 0; i < Math.max(oc.length, lc.length, rc.length); i++)
      await repo.stageOrders(conn, oc[i] ?? [], lc[i] ?? [], rc[i] ?? [])
  })
  t.equal(om.written, orders.length, 'every order written')
  const cm = await merge('customers', async (conn) => {
    for (const c of chunks(customers, 5)) await repo.stageCustomers(conn, c)
  })
  t.equal(cm.written, customers.length, 'every customer written')
  const pm = await merge('products', async (conn) => {
    for (const c of chunks(products, 5)) await repo.stageProducts(conn, c)
  })
  t.equal(pm.written, products.length, 'every product written')

  const iso = (d: Date | null) => (d === null ? null : d.toISOString())
  // Ordered by the bigint id (ORDER BY id would sort the selected id::text).
  const q = async <R>(text: string) =>
    (
      await owner.query(
        `${text.replace(/ FROM (\w+)$/, ' FROM $1 t')} WHERE tenant_id = '${tenantId}' ORDER BY t.id`,
      )
    ).rows as R[]
  type Ts = Date | null
  const gotOrders = (
    await q<Record<string, string | boolean | Ts>>(`SELECT id::text, name, email,
      customer_id::text, currency, total_price::text, subtotal_price::text, total_tax::text,
      total_discounts::text, total_shipping::text, total_refunded::text, financial_status,
      fulfillment_status, cancelled_at, cancel_reason, closed_at, processed_at, test, created_at,
      updated_at FROM orders`)
  ).map((r): OrderRow => ({
    id: r.id as string,
    name: r.name as string,
    email: r.email as string | null,
    customerId: r.customer_id as string | null,
    currency: r.currency as string,
    totalPrice: r.total_price as string,
    subtotalPrice: r.subtotal_price as string,
    totalTax: r.total_tax as string,
    totalDiscounts: r.total_discounts as string,
    totalShipping: r.total_shipping as string,
    totalRefunded: r.total_refunded as string,
    financialStatus: r.financial_status as string | null,
    fulfillmentStatus: r.fulfillment_status as string | null,
    cancelledAt: iso(r.cancelled_at as Ts),
    cancelReason: r.cancel_reason as string | null,
    closedAt: iso(r.closed_at as Ts),
    processedAt: iso(r.processed_at as Ts)!,
    test: r.test as boolean,
    createdAt: iso(r.created_at as Ts)!,
    updatedAt: iso(r.updated_at as Ts)!,
  }))
  const byId = <T extends { id: string }>(xs: T[]) =>
    [...xs].sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
  t.same(
    gotOrders,
    byId(orders).map((o) => ({
      ...o,
      totalPrice: expectMoney(o.totalPrice),
      totalDiscounts: expectMoney(o.totalDiscounts),
      subtotalPrice: expectMoney(o.subtotalPrice),
      totalTax: expectMoney(o.totalTax),
      totalShipping: expectMoney(o.totalShipping),
      totalRefunded: expectMoney(o.totalRefunded),
    })),
    'orders equal the normalised rows',
  )
  const gotLines = await q<Record<string, string | number | null>>(`SELECT id::text AS "id",
    order_id::text AS "orderId", product_id::text AS "productId", variant_id::text AS "variantId",
    title, sku, quantity, unit_price::text AS "unitPrice",
    discounted_total::text AS "discountedTotal" FROM order_line_items`)
  t.same(
    gotLines,
    byId(lines).map((l) => ({
      ...l,
      unitPrice: expectMoney(l.unitPrice),
      discountedTotal: expectMoney(l.discountedTotal),
    })),
    'line items equal the normalised rows',
  )
  t.ok(
    gotLines.some((l) => l.title === LONG),
    'the long title is whole',
  )
  const gotRefunds = (
    await q<{ id: string; orderId: string; amount: string; createdAt: Ts; processedAt: Ts }>(
      `SELECT id::text AS "id", order_id::text AS "orderId", amount::text AS "amount",
        created_at AS "createdAt", processed_at AS "processedAt" FROM refunds`,
    )
  ).map((r) => ({ ...r, createdAt: iso(r.createdAt)!, processedAt: iso(r.processedAt) }))
  t.same(
    gotRefunds,
    byId(refunds).map((r) => ({ ...r, amount: expectMoney(r.amount) })),
    'refunds equal the normalised rows',
  )
  const gotCustomers = (
    await q<{
      id: string
      email: string | null
      firstName: string | null
      lastName: string | null
      phone: string | null
      state: string | null
      tags: string[]
      numberOfOrders: string
      amountSpent: string
      createdAt: Ts
      updatedAt: Ts
    }>(`SELECT id::text AS "id", email, first_name AS "firstName", last_name AS "lastName",
      phone, state, tags, number_of_orders::text AS "numberOfOrders",
      amount_spent::text AS "amountSpent", created_at AS "createdAt", updated_at AS "updatedAt"
      FROM customers`)
  ).map((c) => ({ ...c, createdAt: iso(c.createdAt)!, updatedAt: iso(c.updatedAt)! }))
  t.same(
    gotCustomers,
    byId(customers).map((c) => ({
      ...c,
      tags: c.tags ?? [],
      numberOfOrders: c.numberOfOrders ?? '0',
      amountSpent: expectMoney(c.amountSpent ?? '0'),
    })),
    'customers equal the normalised rows (missing stats and tags stage as zero and empty)',
  )
  const gotProducts = (
    await q<Omit<ProductRow, 'createdAt' | 'updatedAt' | 'publishedAt'> & Record<string, Ts>>(
      `SELECT id::text AS "id", title, handle, product_type AS "productType", vendor, status,
        created_at AS "createdAt", updated_at AS "updatedAt", published_at AS "publishedAt"
        FROM products`,
    )
  ).map((p) => ({
    ...p,
    createdAt: iso(p.createdAt as Ts)!,
    updatedAt: iso(p.updatedAt as Ts)!,
    publishedAt: iso(p.publishedAt as Ts),
  }))
  t.same(gotProducts, byId(products), 'products equal the normalised rows')
})
