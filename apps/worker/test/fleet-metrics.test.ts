// The exporter worker's fleet-wide gauges, read from a real database and real queues: queue
// depths, sync lag as bounded aggregates (no tenant label, whatever the number of tenants), the
// webhook inbox from its trigger-kept counters (equal to a real count through inserts, status
// changes and the retention's deletes), and the whole output clean under `promtool check metrics`.
// The exporter and the retention run in the worker, as its system role (tdb.systemDb).
import { createRequire } from 'node:module'
import t from 'tap'
import { createTestDatabase } from '@xeno/db/testing'
import { createLogger } from '@xeno/logger'
import {
  createMetricsRepository,
  createWebhookReceiptRepository,
  createWebhookSweeper,
} from '@xeno/core'
import { promtool } from '@xeno/core/testing'
import { createProducer, createRedis } from '@xeno/queues'
import { dropQueueKeys, testQueuePrefix, testRedisUrl } from '@xeno/queues/testing'
import { registerFleetMetrics } from '../src/fleet-metrics.ts'
import { createWorkerMetrics, startMetricsServer } from '../src/metrics.ts'

type Family = {
  name: string
  type: string
  metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string> }[]
}
const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  s: string,
) => Family[]
const logger = createLogger({ level: 'silent' })

function value(families: Family[], name: string, labels: Record<string, string>) {
  const sample = families
    .find((f) => f.name === name)
    ?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
  return sample?.value === undefined ? undefined : Number(sample.value)
}

t.test('fleet gauges: queues, bounded sync aggregates, inbox counters, promtool', async (t) => {
  const tdb = await createTestDatabase()
  t.teardown(() => tdb.close())
  const prefix = testQueuePrefix()
  const conn = createRedis(testRedisUrl(), 'producer', () => {})
  const producer = createProducer({ connection: conn, prefix })
  t.teardown(async () => {
    await producer.close()
    await dropQueueKeys(conn, prefix)
    conn.disconnect()
  })

  const now = new Date()
  const metrics = createWorkerMetrics()
  registerFleetMetrics({
    registry: metrics.registry,
    queues: producer.allQueues,
    repository: createMetricsRepository(tdb.systemDb),
    logger,
    staleAfterSeconds: 3600,
    now: () => now,
  })
  const server = await startMetricsServer({
    registry: metrics.registry,
    port: 0,
    host: '127.0.0.1',
    logger,
  })
  t.teardown(() => server.close())
  const scrape = async () => (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()

  // 30 tenants with an orders checkpoint each: lag 30 s … 30 × 600 s; a third never succeeded
  // for two hours (stale); one failed.
  const tenants: string[] = []
  for (let i = 0; i < 30; i++) {
    const [row] = await tdb.ownerQuery<{ id: string }>(
      `INSERT INTO tenants (shop_domain, status) VALUES ($1, 'active') RETURNING id`,
      [`fleet-${i}.myshopify.com`],
    )
    tenants.push(row!.id)
    const lagS = i === 0 ? 30 : i * 600
    const success = i % 3 === 0 ? new Date(now.getTime() - 7200_000) : now
    await tdb.ownerQuery(
      `INSERT INTO sync_checkpoints (tenant_id, resource, state, cursor_updated_at, last_success_at)
       VALUES ($1, 'orders', $2, $3, $4)`,
      [row!.id, i === 1 ? 'failed' : 'idle', new Date(now.getTime() - lagS * 1000), success],
    )
  }
  await producer.enqueue('sync-tenant', { tenantId: tenants[0]!, mode: 'full' })

  // The inbox: 5 received, 4 processed long ago, 2 processed now, 1 failed; then status changes.
  const receipts: { id: string; tenant: string }[] = []
  const statuses = [
    ...Array<string>(5).fill('received'),
    ...Array<string>(6).fill('processed'),
    'failed',
  ]
  for (const [i, status] of statuses.entries()) {
    const tenant = tenants[i % 3]!
    const old = i >= 5 && i < 9
    const [r] = await tdb.ownerQuery<{ id: string }>(
      `INSERT INTO webhook_receipts (tenant_id, webhook_id, topic, payload, status, processed_at)
       VALUES ($1, $2, 'orders/create', '{}', $3, $4) RETURNING id`,
      [
        tenant,
        `w-${i}`,
        status,
        status === 'processed' ? new Date(now.getTime() - (old ? 10 : 0) * 86_400_000) : null,
      ],
    )
    receipts.push({ id: r!.id, tenant })
  }
  // Two received → processed in one statement (the triggers count per statement).
  await tdb.ownerQuery(
    `UPDATE webhook_receipts SET status = 'processed', processed_at = now() WHERE id = ANY($1)`,
    [[receipts[0]!.id, receipts[1]!.id]],
  )

  const text = await scrape()
  const families = parse(text)
  t.equal(value(families, 'xeno_queue_jobs', { queue: 'sync', state: 'waiting' }), 1)
  for (const source of ['queues', 'sync_checkpoints', 'webhook_receipts'])
    t.equal(value(families, 'xeno_metrics_source_up', { source }), 1, `${source} up`)

  // Bounded: no tenant id anywhere in the output, whatever the number of tenants.
  for (const id of tenants) t.notOk(text.includes(id), 'no tenant id in any series')
  t.notMatch(text, /tenant_id=/)

  // The lag histogram: cumulative buckets over the 30 checkpoints.
  const bucket = (le: string) =>
    Number(
      new RegExp(
        `^xeno_sync_lag_seconds_bucket\\{le="${le.replace('+', '\\+')}",resource="orders"\\} (\\d+)$`,
        'm',
      ).exec(text)?.[1],
    )
  t.equal(bucket('60'), 1, 'one checkpoint within a minute')
  t.equal(bucket('900'), 2, 'lag 30 s and 600 s within 15 minutes')
  t.equal(bucket('3600'), 7, 'lag ≤ 1 h: 30 s, 600 … 3600 s')
  t.equal(bucket('+Inf'), 30)
  t.match(text, /^xeno_sync_lag_seconds_count\{resource="orders"\} 30$/m)
  const expectedSum = 30 + [...Array(29).keys()].reduce((a, i) => a + (i + 1) * 600, 0)
  const sum = Number(/^xeno_sync_lag_seconds_sum\{resource="orders"\} (\S+)$/m.exec(text)?.[1])
  t.ok(Math.abs(sum - expectedSum) < 1, `lag sum ${sum} ≈ ${expectedSum}`)
  t.equal(value(families, 'xeno_sync_lag_max_seconds', { resource: 'orders' }), 29 * 600)
  t.equal(value(families, 'xeno_sync_stale_checkpoints', { resource: 'orders' }), 10)
  t.equal(value(families, 'xeno_sync_checkpoints', { resource: 'orders', state: 'failed' }), 1)
  t.equal(value(families, 'xeno_sync_checkpoints', { resource: 'orders', state: 'idle' }), 29)
  t.equal(value(families, 'xeno_sync_checkpoints', { resource: 'customers', state: 'idle' }), 0)

  // The inbox from the counters equals a real count.
  const real = async () =>
    Object.fromEntries(
      (
        await tdb.ownerQuery<{ status: string; n: string }>(
          'SELECT status, count(*) AS n FROM webhook_receipts GROUP BY status',
        )
      ).map((r) => [r.status, Number(r.n)]),
    )
  const counted = (families: Family[]) =>
    Object.fromEntries(
      ['received', 'processed', 'failed'].map((status) => [
        status,
        value(families, 'xeno_webhook_receipts', { status }),
      ]),
    )
  t.same(counted(families), { received: 3, processed: 8, failed: 1 })
  t.same(counted(families), await real())
  t.equal(value(families, 'xeno_webhook_receipts', { status: 'skipped' }), 0)

  // Retention: the 4 processed 10 days ago go (in batches of 3), nothing else; the counters follow.
  const sweeper = createWebhookSweeper({
    receipts: createWebhookReceiptRepository(tdb.systemDb),
    producer,
    logger,
    now: () => now,
  })
  t.same(await sweeper.prune(7, 3), { deleted: 4, more: false })
  t.same(await sweeper.prune(7, 3), { deleted: 0, more: false })
  const after = parse(await scrape())
  t.same(counted(after), { received: 3, processed: 4, failed: 1 })
  t.same(counted(after), await real())
  // A batch limit stops a run early and says so (the next hourly run goes on).
  t.same(await sweeper.prune(7, 1, 1), { deleted: 0, more: false })

  const check = promtool(['check', 'metrics'], text)
  if (!check) return t.comment('promtool not installed: live check not run')
  t.equal(check.status, 0, `promtool check metrics: ${check.output}`)
  t.equal(check.output.trim(), '', 'no lint finding')
})
