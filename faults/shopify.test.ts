// Shopify-side faults: 429/5xx/INTERNAL_SERVER_ERROR/latency storms during syncs, concurrent
// refreshes of expiring tokens (exactly one refresh per shop, counted at the token endpoint),
// and an uninstall in the middle of a bulk sync.
import t from 'tap'
import { sleep, waitFor } from './support/cluster.ts'
import { createStack } from './support/stack.ts'

t.test('429/5xx/latency storms, concurrent token refreshes, uninstall mid-sync', async (t) => {
  const s = await createStack(t, { name: 'shopify', workers: 2, bulkMinDurationMs: 5_000 })
  const [a, b] = s.tenants as [(typeof s.tenants)[0], (typeof s.tenants)[0]]
  const statuses = (from: number) =>
    s.recorder
      .requests()
      .filter((r) => r.at >= from && r.path.endsWith('/graphql.json'))
      .map((r) => r.status)

  // 1. Storms: throttling, server errors, GraphQL internal errors, a failed bulk and latency,
  // while A runs a full backfill and B a paged incremental.
  s.touchOrders(b.shop, 80)
  await sleep(2_500)
  const storm = [
    { kind: 'http429' as const, rate: 0.25, retryAfter: '1' },
    { kind: 'http5xx' as const, rate: 0.1 },
    { kind: 'http5xx' as const, count: 1, routes: ['bulk' as const] },
    { kind: 'graphqlInternal' as const, rate: 0.05 },
    { kind: 'latency' as const, latencyMs: 300, rate: 0.3 },
  ]
  const stormAt = Date.now()
  s.fault('shopify-storm', 'inject', storm)
  for (const tn of s.tenants) s.fake.setFaults(tn.shop, structuredClone(storm))
  const tA = await s.ingest(a, { mode: 'full' })
  const tB = await s.ingest(b, { resources: ['orders', 'customers'] })
  await waitFor(
    'the storm hit',
    () => statuses(stormAt).filter((x) => x === 429).length >= 3,
    120_000,
    250,
  )
  await s.waitSynced(b, tB, ['orders', 'customers'], 300_000)
  await s.waitSynced(a, tA, undefined, 300_000)
  for (const tn of s.tenants) s.fake.setFaults(tn.shop, [])
  s.fault('shopify-storm', 'heal')
  const hit = statuses(stormAt)
  t.ok(
    hit.includes(429) && hit.some((x) => x !== null && x >= 500),
    `syncs finished through ${hit.filter((x) => x === 429).length} × 429 and ${hit.filter((x) => x !== null && x >= 500).length} × 5xx`,
  )
  await s.waitQueuesIdle()

  // 2. Both tenants' tokens about to expire (inside the 5-minute refresh margin), then several
  // sync jobs at once on two workers; the token endpoint answers slowly so they overlap.
  const grants = () => s.tenants.map((tn) => s.recorder.tokenGrants('refresh_token', tn.shop))
  const before = grants()
  await s.pg.query(`UPDATE shopify_credentials SET expires_at = now() + interval '60 seconds'`)
  s.fault('tokens-expiring', 'inject')
  for (const tn of s.tenants)
    s.fake.setFaults(tn.shop, [{ kind: 'latency', latencyMs: 1_500, count: 2, routes: ['oauth'] }])
  const since = await Promise.all(s.tenants.map((tn) => s.ingest(tn, {})))
  for (const [i, tn] of s.tenants.entries()) await s.waitSynced(tn, since[i]!)
  for (const tn of s.tenants) s.fake.setFaults(tn.shop, [])
  s.fault('tokens-expiring', 'heal')
  const after = grants()
  t.same(
    after.map((n, i) => n - before[i]!),
    s.tenants.map(() => 1),
    'exactly one refresh per shop at the token endpoint',
  )
  const [cred] = await s.pg.query<{ later: boolean }>(
    `SELECT bool_and(expires_at > now() + interval '30 minutes') AS later FROM shopify_credentials`,
  )
  t.ok(cred?.later, 'the rotated tokens are stored')

  // 3. Uninstall B while its full bulk sync runs.
  await s.ingest(b, { mode: 'full', resources: ['orders'] })
  await waitFor(
    'B bulk running',
    async () => {
      const [cp] = await s.pg.query<{ op: string | null }>(
        `SELECT bulk_operation_id AS op FROM sync_checkpoints WHERE tenant_id = $1 AND resource = 'orders'`,
        [b.id],
      )
      return !!cp?.op
    },
    120_000,
    50,
  )
  s.fault('uninstall-mid-sync', 'inject', { shop: b.shop })
  const res = await fetch(`${s.fake.origin}/_fake/shops/${b.shop}/uninstall`, { method: 'POST' })
  t.equal(res.status, 200, 'the fake uninstalled the app (app/uninstalled sent)')
  s.history.record({ type: 'store', shop: b.shop, op: 'uninstall' })
  await waitFor(
    'B uninstalled',
    async () => {
      const [r] = await s.pg.query<{ status: string }>(`SELECT status FROM tenants WHERE id = $1`, [
        b.id,
      ])
      return r?.status === 'uninstalled'
    },
    120_000,
    250,
  )
  s.fault('uninstall-mid-sync', 'heal')
  await s.waitQueuesIdle()
  const quietFrom = Date.now()
  s.change(a.shop, 10)
  await sleep(5_000)
  const late = s.recorder
    .requests()
    .filter((r) => r.at >= quietFrom && r.shop === b.shop && r.path.endsWith('/graphql.json'))
  t.same(late, [], 'no Shopify call for the uninstalled shop once its jobs drained')
  const [bq] = await s.pg.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM sync_checkpoints WHERE tenant_id = $1 AND state NOT IN ('idle', 'stopped', 'failed')`,
    [b.id],
  )
  t.comment(`B checkpoints still busy: ${bq?.n}`)

  await s.finish(t)
})
