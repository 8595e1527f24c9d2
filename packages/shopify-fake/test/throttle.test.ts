import t from 'tap'
import { PLAN_THROTTLE } from '../src/index.ts'
import { startFake } from './support/fake.ts'

// 2 + 250 × (1 node + totalPriceSet 1 + shopMoney 1) = 752, the cost in FACTS' THROTTLED example.
const Q752 =
  'query($q: String) { orders(first: 250, query: $q) { nodes { id totalPriceSet { shopMoney { amount } } } } }'

t.test(
  'leaky bucket: take requested, refund unused, THROTTLED at 200, restore at 100/s',
  async (t) => {
    const { fake, gql } = await startFake(t, { throttle: PLAN_THROTTLE.shopify, orders: 300 })
    const a = await gql(Q752)
    t.same(a.extensions!.cost, {
      requestedQueryCost: 752,
      actualQueryCost: 752,
      throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 1248, restoreRate: 100 },
    })
    const b = await gql(Q752, { q: 'id:<0' })
    t.equal(b.extensions!.cost.actualQueryCost, 2, 'actual cost counts what came back')
    t.equal(
      b.extensions!.cost.throttleStatus.currentlyAvailable,
      1246,
      'the difference is refunded',
    )
    await gql(Q752)
    const c = await gql(Q752)
    t.equal(c.data, undefined)
    t.same(c.errors, [
      {
        message: 'Throttled',
        extensions: {
          code: 'THROTTLED',
          documentation: 'https://shopify.dev/api/usage/rate-limits',
        },
      },
    ])
    t.same(c.extensions!.cost, {
      requestedQueryCost: 752,
      actualQueryCost: null,
      throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 494, restoreRate: 100 },
    })
    // Waiting (requested - currentlyAvailable) / restoreRate seconds is exactly enough.
    fake.clock.advance(((752 - 494) / 100) * 1000 - 10)
    t.equal((await gql(Q752)).errors?.[0].extensions.code, 'THROTTLED', 'a little less is not')
    fake.clock.advance(10)
    const d = await gql(Q752)
    t.ok(d.data)
    t.equal(d.extensions!.cost.throttleStatus.currentlyAvailable, 0)
    fake.clock.advance(60_000)
    t.equal(
      (await gql('{ shop { name } }')).extensions!.cost.throttleStatus.currentlyAvailable,
      1999,
      'capped at maximumAvailable',
    )
  },
)

t.test('MAX_COST_EXCEEDED above 1000, without extensions.cost', async (t) => {
  const { gql } = await startFake(t, { throttle: PLAN_THROTTLE.shopify })
  const r = await gql(
    '{ orders(first: 250) { nodes { id lineItems(first: 10) { nodes { id } } } } }',
  )
  t.equal(r.errors[0].extensions.code, 'MAX_COST_EXCEEDED')
  t.equal(r.errors[0].extensions.maxCost, 1000)
  t.match(
    r.errors[0].message,
    /^Query cost is \d+, which exceeds the single query max cost limit \(1000\)/,
  )
  t.equal(r.extensions, undefined)
})

t.test('plan override and per-app buckets', async (t) => {
  const { fake, gql, shop } = await startFake(t, { plan: 'plus', throttle: undefined })
  const r = await gql('{ shop { plan { shopifyPlus } } }')
  t.same(r.extensions!.cost.throttleStatus, {
    maximumAvailable: 20000,
    currentlyAvailable: 19998,
    restoreRate: 1000,
  })
  void fake
  void shop
})
