// The REST-shaped webhook payload and the GraphQL node of the same object normalise to the same
// row (ids, money, UTC times, statuses), so webhooks and sync write identical data.
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { readFileSync } from 'node:fs'
import t from 'tap'
import { WEBHOOK_SAMPLES_DIR } from '@xeno/shopify-reference'
import {
  CUSTOMERS_PAGE,
  ORDERS_PAGE,
  PRODUCTS_PAGE,
  createShopifyAdmin,
  customerFromGraphql,
  customerFromRest,
  orderFromGraphql,
  orderFromRest,
  parseShopifyJson,
  productFromGraphql,
  productFromRest,
  refundFromRest,
  type GqlCustomer,
  type GqlOrder,
  type GqlProduct,
} from '@xeno/shopify'
import { createFakeShopify } from '@xeno/shopify-fake'

const sample = (name: string) =>
  parseShopifyJson(readFileSync(`${WEBHOOK_SAMPLES_DIR}${name}.json`, 'utf8')) as Record<
    string,
    unknown
  >

t.test(
  "Shopify's sample payloads normalise with exact ids, UTC times and decimal money",
  async (t) => {
    const o = orderFromRest(sample('orders__create'))
    t.match(o.order.id, /^\d+$/)
    t.equal(o.order.createdAt.endsWith('Z'), true)
    t.match(o.order.totalPrice, /^\d+\.\d+$/)
    t.ok(o.lineItems && o.lineItems.length > 0)
    const c = customerFromRest(sample('customers__create'))
    t.equal(c.id, '706405506930370084', 'a 64-bit id survives exactly')
    t.equal(c.createdAt, '2022-01-01T00:00:00.000Z', 'shop-local offset converted to UTC')
    t.equal(c.numberOfOrders, null, 'REST carries no lifetime stats: the stored ones are kept')
    const r = refundFromRest(sample('refunds__create'))
    t.match(r.amount, /^\d+\.\d{4}$/)
    t.equal(productFromRest(sample('products__create')).status, 'active')
  },
)

t.test('webhook payloads and GraphQL nodes of the same objects give equal rows', async (t) => {
  const received: { topic: string; body: string }[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      received.push({ topic: String(req.headers['x-shopify-topic']), body })
      res.end('ok')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`
  const fake = await createFakeShopify({
    apps: [
      {
        clientId: 'fake-client-id',
        clientSecret: 'fake-client-secret',
        webhooks: [{ topics: ['orders/updated', 'customers/update', 'products/update'], uri }],
      },
    ],
  })
  t.teardown(() => fake.close())
  const shop = fake.createShop({
    domain: 'parity',
    orders: 60,
    customers: 10,
    products: 5,
    timezone: 'America/New_York',
  })
  const store = fake.shop('parity.myshopify.com')
  const d = store.data()
  const prod = d.products.find((p) => p !== null)!
  const cust = d.customers.find((c) => c !== null)!
  store.updateProduct(prod.id, { title: 'Parity product' })
  store.updateCustomer(cust.id, { tags: ['a', 'b'] })
  const orders: number[] = []
  for (let i = 0; i < 60 && orders.length < 8; i++) {
    const { generateOrder } = await import('@xeno/shopify-fake')
    const o = generateOrder(d.spec, i, d.baseProduct, d.baseCustomer)
    store.updateOrder(o.id, { tags: ['parity'] })
    orders.push(o.id)
  }
  for (let i = 0; i < 100 && received.length < orders.length + 2; i++)
    await new Promise((r) => setTimeout(r, 50))

  const client = createShopifyAdmin({
    clientId: 'fake-client-id',
    clientSecret: 'fake-client-secret',
    adminOrigin: fake.origin,
  }).forShop('parity.myshopify.com', shop.accessToken)
  const gqlOrders = (
    await client.request<{ orders: { nodes: GqlOrder[] } }>(ORDERS_PAGE, {
      first: 10,
      query: 'tag:parity',
    })
  ).orders.nodes
  const gqlCustomers = (
    await client.request<{ customers: { nodes: GqlCustomer[] } }>(CUSTOMERS_PAGE, { first: 50 })
  ).customers.nodes
  const gqlProducts = (
    await client.request<{ products: { nodes: GqlProduct[] } }>(PRODUCTS_PAGE, { first: 50 })
  ).products.nodes

  let compared = 0
  for (const w of received) {
    const payload = parseShopifyJson(w.body) as Record<string, unknown>
    if (w.topic === 'orders/updated') {
      const rest = orderFromRest(payload)
      const node = gqlOrders.find((n) => n.id.endsWith(`/${rest.order.id}`))
      if (!node) continue
      const gql = orderFromGraphql(node)
      const norm = (b: typeof rest) => ({
        ...b,
        order: Object.fromEntries(
          Object.entries(b.order).map(([k, v]) => [
            k,
            typeof v === 'string' && /^-?\d+\.\d+$/.test(v) ? Number(v) : v,
          ]),
        ),
        lineItems: b.lineItems?.map((l) => ({
          ...l,
          unitPrice: Number(l.unitPrice),
          discountedTotal: Number(l.discountedTotal),
        })),
        refunds: b.refunds?.map((r) => ({ ...r, amount: Number(r.amount) })),
      })
      t.same(norm(rest), norm(gql), `order ${rest.order.id}`)
      compared++
    } else if (w.topic === 'customers/update') {
      const rest = customerFromRest(payload)
      const gql = customerFromGraphql(gqlCustomers.find((n) => n.id.endsWith(`/${rest.id}`))!)
      // 2026-07 REST customer payloads carry no tags or lifetime stats: null = keep stored.
      t.equal(rest.tags, null)
      t.same(
        { ...rest, numberOfOrders: null, amountSpent: null, tags: null },
        { ...gql, numberOfOrders: null, amountSpent: null, tags: null },
        'customer',
      )
      compared++
    } else if (w.topic === 'products/update') {
      const rest = productFromRest(payload)
      t.same(
        rest,
        productFromGraphql(gqlProducts.find((n) => n.id.endsWith(`/${rest.id}`))!),
        'product',
      )
      compared++
    }
  }
  t.ok(compared >= orders.length + 2, `${compared} objects compared`)
})
