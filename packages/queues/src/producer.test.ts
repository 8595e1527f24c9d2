import t from 'tap'
import { Queue } from 'bullmq'
import { createProducer } from './producer.ts'
import { createRedis } from './connection.ts'
import { testQueuePrefix, testRedisUrl } from './testing.ts'

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
