import t from 'tap'
import {
  generateOrder,
  resolveSpec,
  generateProduct,
  generateCustomer,
  totalRefunded,
} from '../src/index.ts'
import { localIso } from '../src/format.ts'
import { startFake, FROM, TO } from './support/fake.ts'

const spec = resolveSpec(
  { domain: 'gen', seed: 7, orders: 20_000, customers: 2000, products: 50, from: FROM, to: TO },
  0,
)
const products = Array.from({ length: spec.products }, (_, j) => generateProduct(spec, j))
const customers = Array.from({ length: spec.customers }, (_, j) => generateCustomer(spec, j))
const order = (i: number) =>
  generateOrder(
    spec,
    i,
    (j) => products[j]!,
    (j) => customers[j]!,
  )

t.test('same seed gives the same orders; another seed differs', async (t) => {
  t.same(order(123), order(123))
  const other = resolveSpec(
    { domain: 'gen', seed: 8, orders: 20_000, customers: 2000, products: 50, from: FROM, to: TO },
    0,
  )
  t.not(
    JSON.stringify(
      generateOrder(
        other,
        123,
        (j) => generateProduct(other, j),
        (j) => generateCustomer(other, j),
      ),
    ),
    JSON.stringify(order(123)),
  )
})

t.test('realistic mix of orders', async (t) => {
  const all = Array.from({ length: spec.orders }, (_, i) => order(i))
  const rate = (f: (o: (typeof all)[number]) => boolean) => all.filter(f).length / all.length
  t.ok(
    all.every((o) => o.lineItems.length >= 1 && o.lineItems.length <= 5),
    '1–5 line items',
  )
  t.ok(
    all.every((o) => String(o.id).length >= 13 && String(o.id).length <= 14),
    '13–14 digit ids',
  )
  t.ok(
    all.every((o) => o.total === o.subtotal + o.shipping + o.tax),
    'totals add up',
  )
  t.ok(
    all.every((o) => totalRefunded(o) <= o.total),
    'never refunds more than paid',
  )
  const refunded = rate((o) => o.refunds.length > 0 && o.cancelledAt === null)
  t.ok(refunded > 0.035 && refunded < 0.065, `~5% refunded (${refunded})`)
  t.ok(rate((o) => o.financialStatus === 'PARTIALLY_REFUNDED') > 0.015, 'some partial refunds')
  const cancelled = rate((o) => o.cancelledAt !== null)
  t.ok(cancelled > 0.012 && cancelled < 0.03, `~2% cancelled (${cancelled})`)
  t.ok(rate((o) => o.test) > 0.003, 'some test orders')
  t.ok(rate((o) => o.customerId === null) > 0.08, 'guest orders')
  t.ok(rate((o) => o.discountCodes.length > 0) > 0.1, 'discounts')
  const perCustomer = new Map<number, number>()
  for (const o of all)
    if (o.customerId) perCustomer.set(o.customerId, (perCustomer.get(o.customerId) ?? 0) + 1)
  t.ok(
    [...perCustomer.values()].some((n) => n > 5),
    'repeat customers',
  )
  t.ok(
    all.every((o, i) => i === 0 || (o.id > all[i - 1]!.id && o.createdAt >= all[i - 1]!.createdAt)),
    'ids and dates grow together',
  )
  const offsets = new Set(all.map((o) => localIso(o.createdAt, 'America/New_York').slice(-6)))
  t.same([...offsets].sort(), ['-04:00', '-05:00'], 'orders on both sides of DST')
})

t.test('a million-order shop is lazy', async (t) => {
  // Eagerly generated, a million orders with their line items would hold gigabytes of heap.
  const heapBefore = process.memoryUsage().heapUsed
  const { fake, shop } = await startFake(t, {
    domain: 'huge',
    orders: 1_000_000,
    customers: 1000,
    products: 50,
  })
  const grewMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6
  t.ok(grewMb < 200, `created without generating every order (heap grew ${grewMb.toFixed(0)} MB)`)
  const r = await fetch(`${fake.origin}/admin/api/2026-10/graphql.json`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-access-token': shop.accessToken,
      'x-fake-shop': shop.domain,
    },
    body: JSON.stringify({ query: '{ orders(first: 1, reverse: true) { nodes { name } } }' }),
  })
  t.equal(((await r.json()) as any).data.orders.nodes[0].name, '#1001000')
})
