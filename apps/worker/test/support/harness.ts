// A started worker on the `sync` queue with a private prefix, the producer that feeds it, and
// the queue and its events to wait on jobs; everything closed when the test ends.
import { Queue, QueueEvents } from 'bullmq'
import type { Logger } from '@xeno/logger'
import { createProducer, createRedis } from '@xeno/queues'
import { dropQueueKeys, testQueuePrefix, testRedisUrl } from '@xeno/queues/testing'
import { createWorker, type JobHandlers } from '../../src/worker.ts'

type Teardown = { teardown(fn: () => Promise<void> | void): void }

export async function startSyncWorker(
  t: Teardown,
  options: { logger: Logger; handlers: JobHandlers; concurrency?: number },
) {
  const prefix = testQueuePrefix()
  const producerConn = createRedis(testRedisUrl(), 'producer', () => {})
  const producer = createProducer({ connection: producerConn, prefix })
  const worker = createWorker({
    logger: options.logger,
    connect: () => createRedis(testRedisUrl(), 'worker', () => {}),
    prefix,
    queues: ['sync'],
    concurrency: options.concurrency ?? 2,
    handlers: options.handlers,
  })
  worker.start()
  const eventsConn = createRedis(testRedisUrl(), 'worker', () => {})
  const events = new QueueEvents('sync', { connection: eventsConn, prefix })
  const queue = new Queue('sync', { connection: producerConn, prefix })
  t.teardown(async () => {
    await worker.stop()
    await events.close()
    eventsConn.disconnect()
    await queue.close()
    await producer.close()
    await dropQueueKeys(producerConn, prefix)
    producerConn.disconnect()
  })
  await events.waitUntilReady()
  return { worker, producer, queue, events }
}
