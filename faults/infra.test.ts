// Infrastructure faults under webhook and sync load: Redis SIGKILLed and restarted empty,
// Postgres stopped with `pg_ctl stop -m immediate` and restarted (crash recovery), backends
// killed with pg_terminate_backend, and our TCP proxy adding latency to Postgres and black-holing
// Redis and the Shopify API for a while.
import t from 'tap'
import { sleep, waitFor } from './support/cluster.ts'
import { createStack } from './support/stack.ts'

t.test('Redis and Postgres crashes, killed backends, latency and black holes', async (t) => {
  const s = await createStack(t, { name: 'infra', workers: 2 })
  const [a, b] = s.tenants as [(typeof s.tenants)[0], (typeof s.tenants)[0]]
  const attemptsBetween = (from: number, to: number) =>
    s.fake.webhooks
      .records()
      .flatMap((r) => r.attempts)
      .filter((x) => x.at >= from && x.at <= to)
  // Background load: store changes (webhooks to the API) every 100 ms until stopped.
  const loadWhile = async (fn: () => Promise<void>) => {
    let on = true
    const load = (async () => {
      while (on) {
        s.change(a.shop, 1)
        s.change(b.shop, 1)
        await sleep(100)
      }
    })()
    try {
      await fn()
    } finally {
      on = false
      await load
    }
  }
  // Under load: `leadMs`, then the fault (stop, 3 s down, start), then 2 s to settle. Returns
  // the fake's clock when the service went down and came back.
  const outage = async (
    name: string,
    leadMs: number,
    stop: () => Promise<void>,
    start: () => Promise<void>,
  ) => {
    const window = { down: 0, up: 0 }
    await loadWhile(async () => {
      await sleep(leadMs)
      s.fault(name, 'inject')
      window.down = s.fake.clock.now()
      await stop()
      await sleep(3_000)
      await start()
      window.up = s.fake.clock.now()
      s.fault(name, 'heal')
      await sleep(2_000)
    })
    return window
  }

  // 1. Redis SIGKILLed while syncs and webhooks run; restarted empty 3 s later.
  s.touchOrders(a.shop, 60)
  await sleep(2_500)
  s.fake.setFaults(a.shop, [{ kind: 'latency', latencyMs: 100, rate: 1 }])
  await s.ingest(a, { resources: ['orders'] })
  const { down, up } = await outage(
    'redis-sigkill',
    1_500,
    () => s.redis.kill(),
    () => s.redis.start(),
  )
  s.fake.setFaults(a.shop, [])
  await s.fake.webhooks.idle()
  const whileDown = attemptsBetween(down, up)
  t.ok(
    whileDown.some((x) => x.status === 200),
    `webhook intake kept acknowledging while Redis was down (${whileDown.length} posts)`,
  )
  // Redis came back empty: the inbox sweeper (a repeatable job) must re-enqueue what was lost.
  await waitFor(
    'inbox drained after the Redis restart',
    async () => (await s.inboxPending()) === 0,
    150_000,
    1_000,
  )
  t.pass('every stored webhook applied after the Redis restart')

  // 2. Postgres stopped immediately (no checkpoint) during the load, restarted 3 s later.
  s.touchOrders(b.shop, 60)
  await sleep(2_500)
  await s.ingest(b, { resources: ['orders', 'customers'] })
  const { down: pgDown, up: pgUp } = await outage(
    'postgres-immediate-stop',
    1_000,
    () => s.pg.crash(),
    () => s.pg.start(),
  )
  await s.fake.webhooks.idle()
  const pgWindow = attemptsBetween(pgDown, pgUp)
  t.ok(
    pgWindow.some((x) => x.status !== 200),
    `webhooks were refused while Postgres was down (${pgWindow.filter((x) => x.status !== 200).length})`,
  )
  await waitFor(
    'API healthy after the Postgres restart',
    async () => (await fetch(`${s.apiOrigin}/api/health`)).status === 200,
    120_000,
  )

  // 3. pg_terminate_backend on every API and worker connection, twice, under load.
  let terminated = 0
  await loadWhile(async () => {
    s.fault('pg-terminate-backend', 'inject')
    for (let i = 0; i < 2; i++) {
      const rows = await s.pg.query<{ ok: boolean }>(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
          WHERE datname = 'xeno' AND application_name LIKE 'xeno-%'`,
      )
      terminated += rows.filter((r) => r.ok).length
      await sleep(1_000)
    }
    s.fault('pg-terminate-backend', 'heal')
  })
  t.ok(terminated > 0, `${terminated} backends terminated`)

  // 4. Through our proxy: Postgres latency, then Redis and Shopify black holes.
  s.touchOrders(a.shop, 40)
  await sleep(2_500)
  const tA = await s.ingest(a, { resources: ['orders'] })
  await loadWhile(async () => {
    s.fault('pg-latency', 'inject', { ms: 20 })
    s.proxies.pg.setMode({ kind: 'latency', ms: 20 })
    await sleep(5_000)
    s.proxies.pg.setMode({ kind: 'pass' })
    s.fault('pg-latency', 'heal')
    s.fault('redis-blackhole', 'inject')
    s.proxies.redis.setMode({ kind: 'blackhole' })
    await sleep(5_000)
    s.proxies.redis.setMode({ kind: 'pass' })
    s.fault('redis-blackhole', 'heal')
    s.fault('shopify-blackhole', 'inject')
    s.proxies.shopify.setMode({ kind: 'blackhole' })
    await sleep(8_000)
    s.proxies.shopify.setMode({ kind: 'pass' })
    s.proxies.shopify.resetAll()
    s.fault('shopify-blackhole', 'heal')
  })
  await s.waitSynced(a, tA, ['orders'])
  t.pass('the sync finished after the black holes healed')

  await s.finish(t)
})
