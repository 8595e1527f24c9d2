import t from 'tap'
import { RETRY_SCHEDULE_MS, webhookHmac } from '../src/index.ts'
import { startFake, startReceiver, until } from './support/fake.ts'

const SUB =
  'mutation($t: WebhookSubscriptionTopic!, $u: String!) { webhookSubscriptionCreate(topic: $t, webhookSubscription: { uri: $u }) { webhookSubscription { id topic uri } userErrors { message } } }'

t.test(
  'each control-API change emits its topic with the eight headers and a valid HMAC',
  async (t) => {
    const { fake, gql, shop } = await startFake(t)
    const hook = await startReceiver(t)
    for (const topic of [
      'ORDERS_CREATE',
      'ORDERS_UPDATED',
      'ORDERS_CANCELLED',
      'ORDERS_PAID',
      'ORDERS_DELETE',
      'REFUNDS_CREATE',
      'CUSTOMERS_CREATE',
      'CUSTOMERS_UPDATE',
      'CUSTOMERS_DELETE',
      'PRODUCTS_CREATE',
      'PRODUCTS_UPDATE',
      'PRODUCTS_DELETE',
      'APP_UNINSTALLED',
    ])
      t.same(
        (await gql(SUB, { t: topic, u: hook.uri })).data!.webhookSubscriptionCreate.userErrors,
        [],
      )
    const list = await gql('{ webhookSubscriptions(first: 50) { nodes { topic } } }')
    t.equal(list.data!.webhookSubscriptions.nodes.length, 13)
    const post = (path: string, body: unknown = {}, method = 'POST') =>
      fetch(`${fake.origin}/_fake/shops/${shop.domain}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((r) => r.json() as Promise<any>)
    const order = await post('/orders', { lineItems: [{ quantity: 2 }] })
    await post(`/orders/${order.id}/refund`, {
      lineItems: [{ lineItemId: order.lineItems[0].id, quantity: 1 }],
    })
    await post(`/orders/${order.id}/cancel`, {})
    await post(`/orders/${order.id}`, {}, 'DELETE')
    const c = await post('/customers', { firstName: 'Ann' })
    await post(`/customers/${c.id}`, { tags: ['x'] }, 'PATCH')
    await post(`/customers/${c.id}`, {}, 'DELETE')
    const p = await post('/products', { title: 'Cap' })
    await post(`/products/${p.id}`, { title: 'Cap 2' }, 'PATCH')
    await post(`/products/${p.id}`, {}, 'DELETE')
    await post('/uninstall', {})
    const want = [
      'orders/create',
      'orders/paid',
      'refunds/create',
      'orders/updated',
      'refunds/create',
      'orders/cancelled',
      'orders/updated',
      'orders/delete',
      'customers/create',
      'customers/update',
      'customers/delete',
      'products/create',
      'products/update',
      'products/delete',
      'app/uninstalled',
    ]
    await until(() => hook.got.length >= want.length)
    t.same(hook.got.map((g) => g.headers['x-shopify-topic']).sort(), [...want].sort())
    for (const g of hook.got) {
      for (const h of [
        'x-shopify-topic',
        'x-shopify-hmac-sha256',
        'x-shopify-shop-domain',
        'x-shopify-api-version',
        'x-shopify-webhook-id',
        'x-shopify-event-id',
        'x-shopify-triggered-at',
      ])
        t.ok(g.headers[h], `${h} on ${String(g.headers['x-shopify-topic'])}`)
      t.equal(g.headers['content-type'], 'application/json')
      t.equal(g.headers['x-shopify-hmac-sha256'], webhookHmac('fake-client-secret', g.body))
      t.match(g.headers['x-shopify-triggered-at'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
    }
    const created = JSON.parse(
      hook.got.find((g) => g.headers['x-shopify-topic'] === 'orders/create')!.body,
    )
    t.equal(created.id, order.id)
    t.equal(created.admin_graphql_api_id, `gid://shopify/Order/${order.id}`)
    t.match(created.total_price, /^\d+\.\d\d$/)
    t.equal(created.line_items[0].quantity, 2)
    t.same(
      JSON.parse(hook.got.find((g) => g.headers['x-shopify-topic'] === 'orders/delete')!.body),
      { id: order.id },
    )
    // Uninstalling revokes the token.
    t.equal(
      (
        await fetch(`${fake.origin}/admin/api/2026-10/graphql.json`, {
          method: 'POST',
          headers: {
            'x-shopify-access-token': shop.accessToken,
            'x-fake-shop': shop.domain,
            'content-type': 'application/json',
          },
          body: '{"query":"{ shop { name } }"}',
        })
      ).status,
      401,
    )
  },
)

t.test(
  'non-2xx (3xx too) is retried 8 times over ~4 h, then the API subscription is deleted',
  async (t) => {
    const { fake, gql, shop } = await startFake(t)
    const hook = await startReceiver(t, () => 302)
    await gql(SUB, { t: 'CUSTOMERS_UPDATE', u: hook.uri })
    const store = fake.shop(shop.domain)
    store.updateCustomer(store.data().customers[0]!.id, { tags: ['a'] })
    await until(() => hook.got.length === 1)
    for (let k = 0; k < RETRY_SCHEDULE_MS.length; k++) {
      fake.clock.advance(RETRY_SCHEDULE_MS[k]!)
      await until(() => hook.got.length === k + 2)
    }
    t.equal(hook.got.length, 9, 'first attempt + 8 retries')
    const total = RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0)
    t.ok(total > 3.5 * 3_600_000 && total < 4.5 * 3_600_000, 'about four hours')
    t.equal(
      new Set(hook.got.map((g) => g.headers['x-shopify-webhook-id'])).size,
      1,
      'same webhook id',
    )
    t.equal(new Set(hook.got.map((g) => g.body)).size, 1, 'original payload')
    await new Promise((r) => setTimeout(r, 50))
    t.same(
      (await gql('{ webhookSubscriptions(first: 5) { nodes { id } } }')).data!.webhookSubscriptions
        .nodes,
      [],
    )
  },
)

t.test('knobs: duplicates and drops', async (t) => {
  const { fake, gql, shop } = await startFake(t)
  const hook = await startReceiver(t)
  await gql(SUB, { t: 'PRODUCTS_UPDATE', u: hook.uri })
  const store = fake.shop(shop.domain)
  fake.setWebhookKnobs(shop.domain, { duplicateRate: 1 })
  store.updateProduct(store.data().products[0]!.id, { title: 'A' })
  await until(() => hook.got.length === 2)
  t.equal(
    hook.got[0]!.headers['x-shopify-webhook-id'],
    hook.got[1]!.headers['x-shopify-webhook-id'],
  )
  fake.setWebhookKnobs(shop.domain, { dropRate: 1 })
  store.updateProduct(store.data().products[0]!.id, { title: 'B' })
  await new Promise((r) => setTimeout(r, 100))
  t.equal(hook.got.length, 2)
})

t.test('compliance topics come from the app config', async (t) => {
  const hook = await startReceiver(t)
  const { fake, shop } = await startFake(
    t,
    {},
    {
      apps: [
        {
          clientId: 'fake-client-id',
          clientSecret: 's3',
          webhooks: [
            {
              topics: ['customers/redact', 'shop/redact', 'customers/data_request'],
              uri: hook.uri,
            },
          ],
        },
      ],
    },
  )
  const r = await fetch(`${fake.origin}/_fake/shops/${shop.domain}/compliance/shop-redact`, {
    method: 'POST',
  })
  t.equal(r.status, 200)
  await until(() => hook.got.length === 1)
  t.equal(hook.got[0]!.headers['x-shopify-topic'], 'shop/redact')
  t.equal(hook.got[0]!.headers['x-shopify-hmac-sha256'], webhookHmac('s3', hook.got[0]!.body))
})
