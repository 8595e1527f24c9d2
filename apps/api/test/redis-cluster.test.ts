// Xeno on a real Redis Cluster (three masters on loopback, started by the test): the API and a
// worker process (apps/*/src/main.ts, as in production) with REDIS_URL=redis+cluster://… and four
// webhook shards. A backfill through the fake Shopify, webhook intake → shard queues → worker →
// Postgres, Bull Board's queue API and /metrics over every shard, and a master killed with SIGKILL
// in a webhook burst and restarted empty: every acknowledged webhook is applied (the inbox sweeper
// re-enqueues what the dead master held).
import { randomBytes, randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createShopAccessService, createTokenCipher } from '@xeno/core'
import { TEST_RUNTIME_ROLE, TEST_SYSTEM_ROLE } from '@xeno/db/testing'
import { physicalQueueNames, webhookShardOf } from '@xeno/queues'
import { startRedisCluster } from '@xeno/queues/cluster-testing'
import { createFakeShopify } from '@xeno/shopify-fake'
import {
  dbSnapshot,
  diffSnapshots,
  truthSnapshot,
} from '../../../packages/core/test/support/truth.ts'
import { buildTestApp } from './support/app.ts'
import { testEnv } from './support/env.ts'
import { freePort, startProcess, waitForHttp, type Spawned } from './support/process.ts'
import { signedHeaders } from './support/webhooks.ts'

const API = fileURLToPath(new URL('../src/main.ts', import.meta.url))
const WORKER = fileURLToPath(new URL('../../worker/src/main.ts', import.meta.url))
const SECRET = 'cluster-client-secret'
const SHARDS = 4
// The cluster is private to this test, so the prefix is fixed: which master serves which queue
// is then the same on every run.
const PREFIX = 'xeno'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test(
  'API and worker on a Redis Cluster: backfill, sharded webhooks, a master lost',
  async (t) => {
    const cluster = await startRedisCluster(3)
    t.teardown(() => cluster.close())
    const fake = await createFakeShopify({})
    t.teardown(() => fake.close())
    const h = await buildTestApp(t)

    // Each webhook shard is its own hash tag; the four land on more than one master.
    const shardQueues = physicalQueueNames('webhooks', SHARDS)
    t.same(shardQueues, ['webhooks', 'webhooks-1', 'webhooks-2', 'webhooks-3'])
    const masters = await Promise.all(
      shardQueues.map((q) => cluster.masterOf(`{${PREFIX}:${q}}:${q}:wait`)),
    )
    t.ok(new Set(masters).size >= 2, `webhook shards spread over masters ${masters.join(', ')}`)

    // One tenant with a store to backfill, eleven more that only receive webhooks.
    const keyHex = randomBytes(32).toString('hex')
    const domain = `rc${randomBytes(3).toString('hex')}.myshopify.com`
    const shop = fake.createShop({ domain, seed: 7, orders: 400, customers: 60, products: 20 })
    const main = await h.tenant(domain)
    const owner = await h.user(main.id, { role: 'owner' })
    // Each of the others has a shop of its own in the fake: a webhook is applied as what the
    // header shop's Admin API returns for the id it names.
    const others = await Promise.all(
      Array.from({ length: 11 }, async (_, k) => {
        const d = `rc${randomBytes(3).toString('hex')}-${k}.myshopify.com`
        const s = fake.createShop({
          domain: d,
          seed: 100 + k,
          orders: 0,
          customers: 0,
          products: 0,
        })
        return { shop: s, tenant: await h.tenant(d) }
      }),
    )
    const tenants = [main, ...others.map((o) => o.tenant)]
    await h.ownerQuery(`UPDATE tenants SET status = 'active' WHERE id = ANY($1::uuid[])`, [
      tenants.map((x) => x.id),
    ])
    const access = createShopAccessService({
      db: h.db,
      cipher: createTokenCipher({ current: Buffer.from(keyHex, 'hex') }),
      refresh: () => Promise.reject(new Error('not used')),
    })
    for (const [tenantId, s] of [
      [main.id, shop] as const,
      ...others.map((o) => [o.tenant.id, o.shop] as const),
    ])
      await access.storeGrant(tenantId, {
        accessToken: s.accessToken,
        scope: s.scope,
        expiresAt: null,
        refreshToken: null,
        refreshExpiresAt: null,
      })

    const runtimeUrl = new URL(h.ownerUrl)
    runtimeUrl.username = TEST_RUNTIME_ROLE
    runtimeUrl.password = TEST_RUNTIME_ROLE
    const systemUrl = new URL(h.ownerUrl)
    systemUrl.username = TEST_SYSTEM_ROLE
    systemUrl.password = TEST_SYSTEM_ROLE
    const port = await freePort()
    const origin = `http://127.0.0.1:${port}`
    const env = testEnv({
      DATABASE_URL: runtimeUrl.toString(),
      DATABASE_SYSTEM_URL: systemUrl.toString(),
      REDIS_URL: cluster.url,
      WEBHOOK_QUEUE_SHARDS: String(SHARDS),
      QUEUE_PREFIX: PREFIX,
      TOKEN_ENCRYPTION_KEY: keyHex,
      SHOPIFY_CLIENT_ID: 'fake-client-id',
      SHOPIFY_CLIENT_SECRET: SECRET,
      SHOPIFY_ADMIN_ORIGIN: fake.origin,
      SYNC_INTERVAL_MINUTES: '60',
      PORT: String(port),
      APP_URL: origin,
      COOKIE_SECURE: 'false',
      LOG_LEVEL: 'warn',
    })
    const procs: Spawned[] = []
    t.teardown(async () => {
      for (const p of procs)
        if (p.child.exitCode === null) {
          p.child.kill('SIGKILL')
          await p.exited
        }
    })
    const api = startProcess(API, env)
    // The fleet-wide gauges (queue depths) come from the one worker started as the exporter.
    const metricsPort = await freePort()
    const worker = startProcess(WORKER, { ...env, WORKER_METRICS_PORT: String(metricsPort) }, [
      '--concurrency',
      '4',
      '--exporter',
    ])
    procs.push(api, worker)
    const output = () =>
      `API:\n${api.output().slice(-3000)}\nworker:\n${worker.output().slice(-3000)}`
    await waitForHttp(`${origin}/api/health`, [200], 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${output()}`)
    })

    // 1. A backfill: trigger over HTTP → sync queue → worker → fake Shopify → Postgres.
    const started = Date.now()
    const trigger = await fetch(`${origin}/api/tenants/${main.id}/ingest`, {
      method: 'POST',
      headers: { ...owner.basic, 'content-type': 'application/json' },
      body: '{}',
    })
    t.equal(trigger.status, 202, 'ingest accepted')
    type Status = { resource: string; state: string; last_success_at: string | null }
    for (let done = false; !done;) {
      const res = await fetch(`${origin}/api/tenants/${main.id}/sync-status`, {
        headers: owner.basic,
      })
      const s = ((await res.json()) as { data: Status[] }).data
      done =
        s.length === 4 &&
        s.every(
          (x) =>
            x.state === 'idle' &&
            x.last_success_at &&
            Date.parse(x.last_success_at) >= started - 1000,
        )
      if (Date.now() - started > 120_000) throw new Error(`backfill did not finish\n${output()}`)
      if (!done) await sleep(250)
    }
    t.same(
      diffSnapshots(
        await truthSnapshot(fake.origin, domain),
        await dbSnapshot(h.ownerUrl, main.id),
      ),
      [],
      'after the backfill Postgres equals the fake',
    )

    // 2. Webhooks of twelve tenants: each tenant's jobs go to its shard.
    let seq = 0
    const perTenant = new Map<string, number>()
    const send = async (tenant: { id: string; shopDomain: string }) => {
      const n = ++seq
      // The customer exists in the tenant's shop (the fake's control API), as a real
      // customers/create delivery's would.
      const created = (await (
        await fetch(`${fake.origin}/_fake/shops/${tenant.shopDomain}/customers`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ firstName: `C${n}`, email: `c${n}@cluster.example` }),
        })
      ).json()) as { id: number }
      const body = JSON.stringify({
        id: created.id,
        admin_graphql_api_id: `gid://shopify/Customer/${created.id}`,
        first_name: `C${n}`,
        email: `c${n}@cluster.example`,
        created_at: '2026-11-01T10:00:00Z',
        updated_at: '2026-11-01T10:00:00Z',
        tags: '',
      })
      const begun = Date.now()
      const res = await fetch(`${origin}/api/webhooks/customers/create`, {
        method: 'POST',
        headers: signedHeaders('customers/create', body, SECRET, tenant.shopDomain, randomUUID()),
        body,
      })
      await res.arrayBuffer()
      perTenant.set(tenant.id, (perTenant.get(tenant.id) ?? 0) + (res.status === 200 ? 1 : 0))
      return { status: res.status, ms: Date.now() - begun }
    }
    const applied = async () =>
      (
        await h.ownerQuery<{ n: number }>(
          `SELECT count(*)::int AS n FROM customers WHERE tenant_id = ANY($1::uuid[]) AND email LIKE '%@cluster.example'`,
          [tenants.map((x) => x.id)],
        )
      )[0]!.n
    const waitApplied = async (want: number, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs
      let n = await applied()
      while (n < want && Date.now() < deadline) {
        await sleep(250)
        n = await applied()
      }
      return n
    }
    const first = await Promise.all(
      tenants.flatMap((x) => Array.from({ length: 5 }, () => send(x))),
    )
    t.same(
      first.filter((r) => r.status !== 200),
      [],
      'every webhook acknowledged',
    )
    t.equal(await waitApplied(60, 30_000), 60, 'the worker applied every webhook from every shard')

    const admin = await h.admin()
    type BoardQueue = { name: string; counts: Record<string, number> }
    const board = await fetch(`${origin}/admin/queues/api/queues`, {
      headers: { cookie: admin.headers.cookie },
    })
    t.equal(board.status, 200, 'Bull Board answers on the cluster')
    const boardQueues = ((await board.json()) as { queues: BoardQueue[] }).queues
    t.same(
      boardQueues.map((q) => q.name).sort(),
      ['maintenance', 'sync', ...shardQueues].sort(),
      'Bull Board shows every queue and every webhook shard',
    )
    const expected = new Map(shardQueues.map((q) => [q, 0]))
    for (const [id, n] of perTenant) {
      const q = shardQueues[webhookShardOf(id, SHARDS)]!
      expected.set(q, expected.get(q)! + n)
    }
    t.ok([...expected.values()].filter((n) => n > 0).length >= 2, 'tenants use several shards')
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
    for (const q of shardQueues) {
      const boardCount = boardQueues.find((b) => b.name === q)?.counts.completed
      t.equal(boardCount, expected.get(q), `Bull Board: ${q} holds its tenants' webhooks`)
      const m = new RegExp(`xeno_queue_jobs\\{queue="${q}",state="completed"\\} (\\d+)`).exec(
        metrics,
      )
      t.equal(Number(m?.[1]), expected.get(q), `/metrics: ${q} completed`)
    }
    const syncCompleted = /xeno_queue_jobs\{queue="sync",state="completed"\} (\d+)/.exec(metrics)
    t.ok(
      Number(syncCompleted?.[1]) >= 4,
      '/metrics: the backfill (one job per resource) on the sync queue',
    )

    // 3. SIGKILL of the master holding the sweeper's schedule, in a burst; it restarts empty.
    const victim = await cluster.masterOf(`{${PREFIX}:maintenance}:maintenance:wait`)
    const acks: { status: number; ms: number }[] = []
    for (let round = 0; round < 12; round++) {
      if (round === 4) await cluster.kill(victim)
      acks.push(...(await Promise.all(tenants.map((x) => send(x)))))
    }
    await sleep(2_000)
    await cluster.restart(victim)
    t.same(
      acks.filter((r) => r.status !== 200),
      [],
      'every delivery acknowledged while a master was down (Postgres was up)',
    )
    t.comment(
      `slowest acknowledgement with a master down: ${Math.max(...acks.map((a) => a.ms))} ms`,
    )
    const total = 60 + acks.length
    const [stored] = await h.ownerQuery<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_receipts WHERE tenant_id = ANY($1::uuid[]) AND topic = 'customers/create'`,
      [tenants.map((x) => x.id)],
    )
    t.equal(stored!.n, total, 'every acknowledged webhook is in the inbox')
    t.equal(
      await waitApplied(total, 150_000),
      total,
      'every acknowledged webhook applied after the master came back (swept and re-enqueued)',
    )
    const [left] = await h.ownerQuery<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_receipts WHERE tenant_id = ANY($1::uuid[]) AND status <> 'processed'`,
      [tenants.map((x) => x.id)],
    )
    t.equal(left!.n, 0, 'no receipt left unprocessed')
    t.ok(await cluster.usedMemory(), 'the cluster is still up')
  },
)
