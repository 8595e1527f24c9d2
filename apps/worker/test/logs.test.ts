// Job logs carry the queue, job id, job name, tenant and the request id that enqueued the job.
import { Writable } from 'node:stream'
import t from 'tap'
import { Queue, QueueEvents } from 'bullmq'
import { createLogger } from '@xeno/logger'
import { createProducer, createRedis } from '@xeno/queues'
import { testQueuePrefix, testRedisUrl } from '@xeno/queues/testing'
import { createWorker } from '../src/worker.ts'

const tenantId = '5f4dcc3b-5aa7-4c6a-8e1f-0a1b2c3d4e5f'

t.test('job log lines carry tenant, queue, job id and request id', async (t) => {
  let output = ''
  const logger = createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        output += chunk.toString()
        cb()
      },
    }),
  })
  const prefix = testQueuePrefix()
  const producerConn = createRedis(testRedisUrl(), 'producer', () => {})
  const producer = createProducer({ connection: producerConn, prefix })
  const worker = createWorker({
    logger,
    connect: () => createRedis(testRedisUrl(), 'worker', () => {}),
    prefix,
    queues: ['sync'],
    concurrency: 1,
    handlers: {
      'sync-resource': async (_payload, ctx) => {
        ctx.log.info('handler ran')
        return { ok: true }
      },
    },
  })
  worker.start()
  const eventsConn = createRedis(testRedisUrl(), 'worker', () => {})
  const events = new QueueEvents('sync', { connection: eventsConn, prefix })
  const q = new Queue('sync', { connection: producerConn, prefix })
  t.teardown(async () => {
    await worker.stop()
    await events.close()
    eventsConn.disconnect()
    await q.close()
    await producer.close()
    producerConn.disconnect()
  })
  await events.waitUntilReady()

  const id = await producer.enqueue('sync-resource', {
    tenantId,
    resource: 'orders',
    mode: 'incremental',
    requestId: 'req-from-the-api-1',
  })
  await (await q.getJob(id))!.waitUntilFinished(events, 10_000)
  const lines = output
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  for (const msg of ['handler ran', 'job done']) {
    const line = lines.find((l) => l.msg === msg)
    t.ok(line, `"${msg}" logged`)
    t.match(line, {
      queue: 'sync',
      jobId: id,
      job: 'sync-resource',
      tenantId,
      requestId: 'req-from-the-api-1',
    })
  }
})
