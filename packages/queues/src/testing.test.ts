import t from 'tap'
import { createProducer } from './producer.ts'
import { createRedis } from './connection.ts'
import { dropQueueKeys, testQueuePrefix, testRedisUrl } from './testing.ts'

t.test('dropQueueKeys removes every key of one prefix and nothing else', async (t) => {
  const redis = createRedis(testRedisUrl(), 'producer', () => {})
  if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r))
  const mine = testQueuePrefix()
  const other = testQueuePrefix()
  const producers = [mine, other].map((prefix) => createProducer({ connection: redis, prefix }))
  t.teardown(async () => {
    for (const p of producers) await p.close()
    await dropQueueKeys(redis, other)
    redis.disconnect()
  })
  const tenantId = '0b0f8a4e-1c1e-4e8f-9a51-6d1c1f0e2d3a'
  for (const p of producers)
    await p.enqueueBulk(
      'process-webhook',
      Array.from({ length: 1500 }, (_, i) => ({
        payload: { tenantId, receiptId: `0b0f8a4e-1c1e-4e8f-9a51-${String(i).padStart(12, '0')}` },
        jobId: `job-${i}`,
      })),
    )
  const count = async (prefix: string) => (await redis.keys(`${prefix}:*`)).length
  const before = await count(mine)
  t.ok(before > 1500, `the prefix holds the queue's keys (${before})`)
  t.equal(await dropQueueKeys(redis, mine), before, 'every key counted as dropped')
  t.equal(await count(mine), 0, 'nothing left under the prefix')
  t.equal(await count(other), before, 'another prefix is untouched')
})
