import t from 'tap'
import { Queue } from 'bullmq'
import { createProducer } from './producer.ts'
import { createRedis, queueKeyPrefix } from './connection.ts'
import { physicalQueueNames, webhookShardOf } from './catalog.ts'
import { dropQueueKeys, testQueuePrefix, testRedisUrl } from './testing.ts'

t.test('producer validates payloads and applies the catalog policy', async (t) => {
  const connection = createRedis(testRedisUrl(), 'producer', () => {})
  const prefix = testQueuePrefix()
  const producer = createProducer({ connection, prefix })
  t.teardown(async () => {
    await producer.close()
    connection.disconnect()
  })
  if (connection.status !== 'ready') await new Promise((r) => connection.once('ready', r))

  const tenantId = '0b0f8a4e-1c1e-4e8f-9a51-6d1c1f0e2d3a'
  const id = await producer.enqueue(
    'sync-resource',
    { tenantId, resource: 'orders', mode: 'full' },
    { jobId: `sync:${tenantId}:orders` },
  )
  t.equal(id, `sync:${tenantId}:orders`)
  // Same job id again: absorbed, not duplicated.
  await producer.enqueue(
    'sync-resource',
    { tenantId, resource: 'orders', mode: 'full' },
    { jobId: `sync:${tenantId}:orders` },
  )
  const q = new Queue('sync', { connection, prefix })
  t.teardown(() => q.close())
  t.equal(await q.count(), 1, 'one job despite two adds with the same id')
  const job = await q.getJob(id)
  t.equal(job?.opts.attempts, 8)
  t.same(job?.data, { tenantId, resource: 'orders', mode: 'full' })

  await t.rejects(
    producer.enqueue('sync-resource', {
      tenantId: 'nope',
      resource: 'orders',
      mode: 'full',
    }),
    /tenantId/,
  )
  await t.rejects(
    producer.enqueue('sync-resource', {
      tenantId,
      // @ts-expect-error an unknown resource is refused at compile time and at run time
      resource: 'discounts',
      mode: 'full',
    }),
    /resource/,
  )
})

t.test('webhook jobs go to their tenant shard; one shard keeps the queue `webhooks`', async (t) => {
  t.same(physicalQueueNames('webhooks', 1), ['webhooks'])
  t.same(physicalQueueNames('sync', 4), ['sync'])
  const ids = Array.from(
    { length: 64 },
    (_, i) => `0b0f8a4e-1c1e-4e8f-9a51-${String(i).padStart(12, '0')}`,
  )
  for (const id of ids) {
    t.equal(webhookShardOf(id, 1), 0)
    t.equal(webhookShardOf(id, 4), webhookShardOf(id, 4), 'stable')
  }
  t.equal(new Set(ids.map((id) => webhookShardOf(id, 4))).size, 4, 'tenants spread over shards')
  t.equal(queueKeyPrefix('{xeno}', 'webhooks-2', false), '{xeno}', 'one Redis: the shared prefix')
  t.equal(queueKeyPrefix('{xeno}', 'webhooks-2', true), '{xeno:webhooks-2}', 'cluster: own tag')

  const connection = createRedis(testRedisUrl(), 'producer', () => {})
  const prefix = testQueuePrefix()
  const producer = createProducer({ connection, prefix, webhookShards: 4 })
  t.teardown(async () => {
    await producer.close()
    await dropQueueKeys(connection, prefix)
    connection.disconnect()
  })
  if (connection.status !== 'ready') await new Promise((r) => connection.once('ready', r))
  const jobs = ids.slice(0, 20).map((tenantId, i) => ({
    payload: { tenantId, receiptId: ids[i]! },
    jobId: `r${i}`,
  }))
  await producer.enqueueBulk('process-webhook', jobs.slice(0, 19))
  await producer.enqueue('process-webhook', jobs[19]!.payload, { jobId: jobs[19]!.jobId })
  t.same(
    producer.allQueues().map((q) => q.name),
    ['sync', 'webhooks', 'webhooks-1', 'webhooks-2', 'webhooks-3', 'maintenance'],
  )
  for (const j of jobs) {
    const shard = webhookShardOf(j.payload.tenantId, 4)
    const q = producer.queuesOf('webhooks')[shard]!
    t.ok(await q.getJob(j.jobId), `job ${j.jobId} waits in shard ${shard}`)
    t.equal(producer.queueFor('process-webhook', j.payload).name, q.name)
  }
  const counts = await Promise.all(producer.queuesOf('webhooks').map((q) => q.count()))
  t.equal(
    counts.reduce((a, b) => a + b, 0),
    20,
    'each job in exactly one shard',
  )
})
