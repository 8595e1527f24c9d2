import t from 'tap'
import { startFake, START } from './support/fake.ts'

const ORDERS = `query($first: Int, $after: String, $q: String, $sort: OrderSortKeys, $reverse: Boolean) {
  orders(first: $first, after: $after, query: $q, sortKey: $sort, reverse: $reverse) {
    edges { cursor node { id legacyResourceId name updatedAt createdAt test displayFinancialStatus cancelledAt
      totalPriceSet { shopMoney { amount currencyCode } } totalRefundedSet { shopMoney { amount } } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`

t.test('unknown token: Shopify 401 body and headers; unknown shop: 404', async (t) => {
  const { fake, shop } = await startFake(t)
  const r = await fetch(`${fake.origin}/admin/api/2026-10/graphql.json`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-access-token': 'shpat_nope',
      'x-fake-shop': shop.domain,
    },
    body: '{"query":"{ shop { name } }"}',
  })
  t.equal(r.status, 401)
  t.equal(r.headers.get('www-authenticate'), 'Basic Realm="Shopify API Authentication"')
  t.ok(r.headers.get('x-request-id'))
  t.same(await r.json(), {
    errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
  })
  const r2 = await fetch(`${fake.origin}/admin/api/2026-10/graphql.json`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-access-token': shop.accessToken,
      'x-fake-shop': 'other.myshopify.com',
    },
    body: '{"query":"{ shop { name } }"}',
  })
  t.equal(r2.status, 404)
  t.same(await r2.json(), { errors: 'Not Found' })
  t.equal((await fetch(fake.origin + '/')).status, 200)
})

t.test('serialises like Shopify', async (t) => {
  const { gql } = await startFake(t)
  const r = await gql(`{ shop { myshopifyDomain ianaTimezone currencyCode plan { shopifyPlus } }
    customers(first: 3) { nodes { id numberOfOrders amountSpent { amount } createdAt } }
    orders(first: 50) { nodes { id legacyResourceId createdAt totalPriceSet { shopMoney { amount } } } } }`)
  t.equal(r.data!.shop.myshopifyDomain, 'acme.myshopify.com')
  for (const o of r.data!.orders.nodes) {
    t.match(o.id, /^gid:\/\/shopify\/Order\/\d{13,14}$/)
    t.equal(o.id, `gid://shopify/Order/${o.legacyResourceId}`)
    t.match(o.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    t.match(o.totalPriceSet.shopMoney.amount, /^\d+\.(\d|\d\d)$/)
  }
  for (const c of r.data!.customers.nodes) t.type(c.numberOfOrders, 'string')
  t.ok(
    r.data!.orders.nodes.some((o: any) => o.totalPriceSet.shopMoney.amount.match(/\.\d$/)),
    'some amounts like "55.0"',
  )
  t.ok(r.extensions?.cost?.throttleStatus)
})

t.test('paging: first/last required, max 250, opaque cursors, reverse, last/before', async (t) => {
  const { gql } = await startFake(t)
  const none = await gql('{ orders(query: "") { nodes { id } } }')
  t.equal(none.data, null)
  t.equal(none.errors[0].message, 'you must provide one of first or last')
  t.same(none.errors[0].path, ['orders'])
  const big = await gql('{ orders(first: 251) { nodes { id } } }')
  t.ok(big.errors?.length)
  const all: string[] = []
  let after: string | null = null
  for (;;) {
    const r: any = await gql(ORDERS, { first: 70, after })
    all.push(...r.data.orders.edges.map((e: any) => e.node.id))
    t.equal(r.data.orders.pageInfo.hasPreviousPage, after !== null)
    if (!r.data.orders.pageInfo.hasNextPage) break
    after = r.data.orders.pageInfo.endCursor
  }
  t.equal(all.length, 300)
  t.equal(new Set(all).size, 300)
  const rev: any = await gql(ORDERS, { first: 5, reverse: true })
  t.same(
    rev.data.orders.edges.map((e: any) => e.node.id),
    all.slice(-5).reverse(),
  )
  const last: any = await gql(
    '{ orders(last: 3) { nodes { id } pageInfo { hasPreviousPage hasNextPage } } }',
  )
  t.same(
    last.data.orders.nodes.map((n: any) => n.id),
    all.slice(-3),
  )
  t.equal(last.data.orders.pageInfo.hasPreviousPage, true)
  const page: any = await gql(ORDERS, { first: 10 })
  const before: any = await gql(
    'query($b: String) { orders(last: 2, before: $b) { nodes { id } } }',
    { b: page.data.orders.edges[5].cursor },
  )
  t.same(
    before.data.orders.nodes.map((n: any) => n.id),
    all.slice(3, 5),
  )
})

t.test('search: dates, status, test, id ranges, OR/NOT, warnings, 60-day window', async (t) => {
  const { fake, gql, shop } = await startFake(t)
  const truth = await (await fetch(`${fake.origin}/_fake/shops/${shop.domain}/truth`)).text()
  const orders = truth
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((r) => r.kind === 'order')
    .map((r) => r.row)
  const fetchAll = async (q: string, sort = 'UPDATED_AT') => {
    const ids: string[] = []
    let after: string | null = null
    for (;;) {
      const r: any = await gql(ORDERS, { first: 150, after, q, sort })
      if (!r.data) throw new Error(JSON.stringify(r.errors))
      ids.push(...r.data.orders.edges.map((e: any) => e.node.legacyResourceId))
      if (!r.data.orders.pageInfo.hasNextPage) return ids.map(Number)
      after = r.data.orders.pageInfo.endCursor
    }
  }
  const pivot = orders[150]
  const iso = new Date(pivot.updatedAt).toISOString().replace('.000Z', 'Z')
  const gt = await fetchAll(`updated_at:>'${iso}'`)
  const ge = await fetchAll(`updated_at:>='${iso}'`)
  t.same(
    gt.sort(),
    orders
      .filter((o: any) => Math.floor(o.updatedAt / 1000) > Math.floor(pivot.updatedAt / 1000))
      .map((o: any) => o.id)
      .sort(),
  )
  t.ok(
    ge.includes(pivot.id) && !gt.includes(pivot.id),
    '>= includes the boundary second, > does not',
  )
  const refunded = await fetchAll(
    'financial_status:refunded OR financial_status:partially_refunded',
  )
  t.same(
    refunded.sort(),
    orders
      .filter((o: any) => o.financialStatus.endsWith('REFUNDED'))
      .map((o: any) => o.id)
      .sort(),
  )
  const notTest = await fetchAll('-test:true')
  t.equal(notTest.length, orders.filter((o: any) => !o.test).length)
  const cancelled = await fetchAll('status:cancelled')
  t.same(
    cancelled.sort(),
    orders
      .filter((o: any) => o.cancelledAt !== null)
      .map((o: any) => o.id)
      .sort(),
  )
  const range = await fetchAll(`id:>=${orders[10].id} AND id:<${orders[20].id}`, 'ID')
  t.same(
    range,
    orders.slice(10, 20).map((o: any) => o.id),
  )
  const warn: any = await gql(ORDERS, { first: 1, q: 'emial:x@example.com' })
  t.same(warn.extensions.search[0].warnings, [
    { field: 'emial', message: 'Invalid search field for this query.', code: 'invalid_field' },
  ])
  t.same(warn.extensions.search[0].path, ['orders'])
  const limited = fake.issueToken(shop.domain, { scopes: ['read_orders'] })
  const recent: any = await gql('{ ordersCount(limit: null) { count } }', {}, limited.accessToken)
  const expected = orders.filter((o: any) => o.createdAt >= START - 60 * 86_400_000).length
  t.equal(recent.data.ordersCount.count, expected, '60-day window without read_all_orders')
  const allCount: any = await gql('{ ordersCount(limit: null) { count precision } }')
  t.same(allCount.data.ordersCount, { count: 300, precision: 'EXACT' })
})

t.test('paging returns each row exactly once while rows change', async (t) => {
  const { fake, gql, shop } = await startFake(t, { orders: 600 })
  const store = fake.shop(shop.domain)
  for (const sort of ['PROCESSED_AT', 'ID', 'CREATED_AT']) {
    const seen: string[] = []
    let after: string | null = null
    let k = 0
    for (;;) {
      const r: any = await gql(ORDERS, { first: 37, after, sort })
      seen.push(...r.data.orders.edges.map((e: any) => e.node.id))
      // Concurrent writers: update orders on both sides of the cursor between pages.
      const ids = store.data()
      void ids
      for (const id of [seen[0], seen[seen.length - 1]])
        store.updateOrder(Number(id!.split('/').pop()), { tags: [`t${k++}`] })
      if (!r.data.orders.pageInfo.hasNextPage) break
      after = r.data.orders.pageInfo.endCursor
    }
    t.equal(seen.length, 600, sort)
    t.equal(new Set(seen).size, 600, `${sort}: no duplicates`)
  }
  // By UPDATED_AT a row updated after it was read moves behind the cursor and is seen again
  // (as on Shopify); rows never vanish.
  const seen = new Set<string>()
  let after: string | null = null
  for (;;) {
    const r: any = await gql(ORDERS, { first: 50, after, sort: 'UPDATED_AT' })
    for (const e of r.data.orders.edges) seen.add(e.node.id)
    const firstId = r.data.orders.edges[0]?.node.id
    if (firstId) {
      fake.clock.advance(1000)
      store.updateOrder(Number(firstId.split('/').pop()), { tags: ['moved'] })
    }
    if (!r.data.orders.pageInfo.hasNextPage) break
    after = r.data.orders.pageInfo.endCursor
  }
  t.equal(seen.size, 600)
})
