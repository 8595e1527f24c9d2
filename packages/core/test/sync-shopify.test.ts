// The sync against the fake Shopify's hard parts: throttling, equal timestamps across pages,
// fault storms, revoked access, and expiring-token refresh under concurrency.
import t from 'tap'
import { generateOrder } from '@xeno/shopify-fake'
import { SHOP_QUERY } from '@xeno/shopify'
import { syncHarness } from './support/sync-setup.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const all = ['shop', 'customers', 'products', 'orders'] as const

t.test(
  'a long incremental sync at 100 points/s is never throttled and uses ≥ 90% of the budget',
  async (t) => {
    const h = await syncHarness(t, {
      sync: { pageSize: { customers: 250, products: 250, orders: 5 } },
    })
    const s = await h.tenant({
      orders: 400,
      customers: 40,
      products: 15,
      throttle: { maximumAvailable: 2000, restoreRate: 100 },
    })
    await h.sync.run(s.tenantId, 'orders', 'full')
    const d = s.store.data()
    await sleep(1100)
    for (let i = 0; i < 130; i++)
      s.store.updateOrder(generateOrder(d.spec, i * 3, d.baseProduct, d.baseCustomer).id, {
        tags: ['x'],
      })
    await sleep(1100)
    // Start from a full bucket, like any sync after a quiet period.
    await sleep(2000)
    const budget = h.admin.budget(s.domain)
    const before = budget.stats()
    const client = h.admin.forShop(s.domain, s.shop.accessToken)
    await client.request(SHOP_QUERY)
    const start = budget.stats()
    const availableAtStart = (start.available ?? 0) + (start.pointsUsed - before.pointsUsed)
    const t0 = performance.now()
    const out = await h.sync.run(s.tenantId, 'orders', 'incremental')
    const elapsed = (performance.now() - t0) / 1000
    const end = budget.stats()
    t.equal(out.status, 'done')
    if (out.status === 'done') t.ok(out.pages >= 26, `${out.pages} pages`)
    t.equal(end.throttledCount - before.throttledCount, 0, 'no THROTTLED response at all')
    const used = end.pointsUsed - start.pointsUsed
    const offered = availableAtStart + 100 * elapsed
    t.ok(
      used / offered >= 0.9,
      `used ${used} of ${Math.round(offered)} points (${((100 * used) / offered).toFixed(1)}%) in ${elapsed.toFixed(1)} s`,
    )
    t.same(
      (await s.check()).filter((d) => !/^(customers|products)/.test(d)),
      [],
      'and the orders are right',
    )
  },
)

t.test(
  'many rows sharing one updated_at across page boundaries: none skipped, no loop',
  async (t) => {
    const h = await syncHarness(t, {
      fake: { clock: { auto: false, start: Date.now() - 60_000 } },
      sync: { pageSize: { customers: 7, products: 250, orders: 4 }, overlapMs: 1000 },
    })
    const s = await h.tenant({ orders: 200, customers: 60, products: 10 })
    for (const r of all) await h.sync.run(s.tenantId, r, 'incremental')
    t.same(await s.check(), [])
    h.fake.clock.advance(5_000)
    const d = s.store.data()
    const ids = Array.from(
      { length: 23 },
      (_, i) => generateOrder(d.spec, i * 7, d.baseProduct, d.baseCustomer).id,
    )
    for (const id of ids) s.store.updateOrder(id, { tags: ['same-second'] })
    const customers = d.customers.filter((c) => c !== null).slice(0, 30)
    for (const c of customers) s.store.updateCustomer(c.id, { tags: ['same-second'] })
    const out = await h.sync.run(s.tenantId, 'orders', 'incremental')
    const outC = await h.sync.run(s.tenantId, 'customers', 'incremental')
    t.equal(out.status, 'done')
    if (out.status === 'done')
      t.ok(out.pages >= 6 && out.pages <= 8, `orders: ${out.pages} pages for 23 equal timestamps`)
    if (outC.status === 'done') t.ok(outC.pages < 40, `customers: ${outC.pages} pages (finite)`)
    const rows = await h.ownerQuery<{ n: string }>(
      `SELECT count(*) AS n FROM orders WHERE tenant_id = $1 AND id = ANY($2::bigint[]) AND updated_at = (SELECT max(updated_at) FROM orders WHERE tenant_id = $1)`,
      [s.tenantId, ids.map(String)],
    )
    t.equal(Number(rows[0]?.n), 23, 'every order of the shared timestamp stored')
    t.same(await s.check(), [], 'equal to the fake')
    // Running again from the checkpoint re-reads the overlap and ends.
    h.fake.clock.advance(30_000) // the frozen clock also freezes the throttle bucket's refill
    const again = await h.sync.run(s.tenantId, 'orders', 'incremental')
    if (again.status === 'done') t.ok(again.pages <= 8, 'a second run also ends')
  },
)

t.test(
  '429, 5xx, GraphQL internal errors, dropped and malformed responses: completes and is correct',
  async (t) => {
    const h = await syncHarness(t)
    const s = await h.tenant({ orders: 500, customers: 60, products: 20 })
    h.fake.setFaults(s.domain, [
      { kind: 'http429', rate: 0.12, retryAfter: '0.05', routes: ['graphql'] },
      { kind: 'http5xx', rate: 0.1, status: 503, routes: ['graphql'] },
      { kind: 'drop', rate: 0.08, routes: ['graphql', 'bulk'] },
      { kind: 'graphqlInternal', rate: 0.06 },
      { kind: 'malformed', rate: 0.05 },
    ])
    for (const r of all)
      t.equal((await h.sync.run(s.tenantId, r, 'incremental')).status, 'done', `${r} backfill`)
    t.same(await s.check(), [], 'backfill correct despite the storm')
    await sleep(1100)
    const d = s.store.data()
    for (let i = 0; i < 40; i++)
      s.store.updateOrder(generateOrder(d.spec, i * 9, d.baseProduct, d.baseCustomer).id, {
        tags: ['storm'],
      })
    await sleep(1100)
    t.equal((await h.sync.run(s.tenantId, 'orders', 'incremental')).status, 'done')
    h.fake.setFaults(s.domain, [])
    t.same(await s.check(), [], 'incremental correct despite the storm')
  },
)

t.test('a revoked token stops that tenant only, without retries', async (t) => {
  const h = await syncHarness(t)
  const a = await h.tenant({ orders: 30, customers: 5, products: 3 })
  const b = await h.tenant({ orders: 30, customers: 5, products: 3 })
  await fetch(`${h.fake.origin}/_fake/shops/${a.domain}/uninstall`, { method: 'POST', body: '{}' })
  await t.rejects(h.sync.run(a.tenantId, 'orders', 'incremental'), { name: 'SyncStoppedError' })
  t.same(h.stopped, [a.tenantId], 'schedules removed once')
  const rows = await h.ownerQuery<{ status: string }>(`SELECT status FROM tenants WHERE id = $1`, [
    a.tenantId,
  ])
  t.equal(rows[0]?.status, 'disabled', 'tenant marked')
  const cps = await h.sync.checkpoints(a.tenantId)
  t.ok(
    cps.every((c) => c.state === 'stopped'),
    'its checkpoints are stopped',
  )
  await t.rejects(
    h.sync.run(a.tenantId, 'customers', 'incremental'),
    { name: 'SyncStoppedError' },
    'later jobs stop at once',
  )
  for (const r of all)
    t.equal((await h.sync.run(b.tenantId, r, 'incremental')).status, 'done', `tenant B ${r}`)
  t.same(await b.check(), [], 'the other tenant is unaffected')
})

t.test('an expiring token is refreshed exactly once when many jobs need it at once', async (t) => {
  const h = await syncHarness(t)
  const s = await h.tenant({ orders: 10, customers: 3, products: 2, expiring: true })
  // Expiring within the refresh margin: the next caller must refresh.
  await h.ownerQuery(
    `UPDATE shopify_credentials SET expires_at = now() + interval '1 minute' WHERE tenant_id = $1`,
    [s.tenantId],
  )
  const before = await h.ownerQuery<{ refresh_token_enc: string }>(
    `SELECT refresh_token_enc FROM shopify_credentials WHERE tenant_id = $1`,
    [s.tenantId],
  )
  const got = await Promise.all(Array.from({ length: 8 }, () => h.access.accessFor(s.tenantId)))
  t.equal(h.refreshes.length, 1, 'one refresh for eight concurrent callers')
  t.equal(new Set(got.map((g) => g.accessToken)).size, 1, 'all got the rotated token')
  t.not(got[0]?.accessToken, s.shop.accessToken)
  const after = await h.ownerQuery<{ refresh_token_enc: string; expires_at: Date }>(
    `SELECT refresh_token_enc, expires_at FROM shopify_credentials WHERE tenant_id = $1`,
    [s.tenantId],
  )
  t.not(
    after[0]?.refresh_token_enc,
    before[0]?.refresh_token_enc,
    'rotated refresh token persisted',
  )
  t.ok(after[0]!.expires_at.getTime() > Date.now() + 50 * 60_000, 'new expiry stored')
  // The rotated token works, and a sync with several resources at once refreshes nothing more.
  const outs = await Promise.all(all.map((r) => h.sync.run(s.tenantId, r, 'incremental')))
  const done = outs.filter((o) => o.status === 'done').length
  t.ok(
    done >= 2 && outs.every((o) => o.status === 'done' || o.status === 'no-slot'),
    'at most the tenant slots run, the rest are told to come back',
  )
  for (const [i, o] of outs.entries())
    if (o.status !== 'done')
      t.equal((await h.sync.run(s.tenantId, all[i]!, 'incremental')).status, 'done')
  t.equal(h.refreshes.length, 1)
  t.same(await s.check(), [])
})
