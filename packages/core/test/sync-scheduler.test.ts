// Sync schedules spread over their period: many tenants registered at once (a worker re-asserting
// every tenant's schedules at start) do not all fire in the same instant of every period.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { createProducer, createRedis } from '@xeno/queues'
import { dropQueueKeys, testQueuePrefix, testRedisUrl } from '@xeno/queues/testing'
import { createSyncScheduler, scheduleOffsetMs } from '../src/sync/sync-scheduler.ts'

t.test('schedules registered together fire spread over the period', async (t) => {
  const redis = createRedis(testRedisUrl(), 'producer', () => {})
  if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r))
  const prefix = testQueuePrefix()
  const producer = createProducer({ connection: redis, prefix })
  t.teardown(async () => {
    await producer.close()
    await dropQueueKeys(redis, prefix)
    redis.disconnect()
  })
  const scheduler = createSyncScheduler({ producer, intervalMinutes: 15 })
  const period = 15 * 60_000
  const tenants = Array.from({ length: 120 }, () => randomUUID())
  const before = Date.now()
  await Promise.all(tenants.map((id) => scheduler.ensure(id)))
  const after = Date.now()
  const next = await Promise.all(tenants.map((id) => scheduler.next(id)))
  const inc = next.map((n) => n.incremental!.getTime())
  t.ok(
    inc.every((ms) => ms >= before && ms <= after + period),
    'each incremental is due within one period',
  )
  const minutes = new Set(inc.map((ms) => Math.floor((ms % period) / 60_000)))
  t.ok(minutes.size >= 12, `the incrementals fall in ${minutes.size} of the period's 15 minutes`)
  const rec = next.map((n) => n.reconcile!.getTime())
  const hours = new Set(rec.map((ms) => Math.floor((ms % 86_400_000) / 3_600_000)))
  t.ok(hours.size >= 18, `the reconciliations fall in ${hours.size} of the day's 24 hours`)
  for (const id of tenants.slice(0, 5))
    t.equal(
      scheduleOffsetMs(id, 'incremental', period),
      scheduleOffsetMs(id, 'incremental', period),
      'stable offset',
    )
  // Re-asserting (every worker start) keeps each schedule where it was.
  await Promise.all(tenants.map((id) => scheduler.ensure(id)))
  const again = await Promise.all(tenants.map((id) => scheduler.next(id)))
  t.same(
    again.map((n) => n.incremental!.getTime()),
    inc,
    'the same due times after a second ensure',
  )
})
