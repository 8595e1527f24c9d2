// Job logs carry the queue, job id, job name, tenant and the request id that enqueued the job.
import { Writable } from 'node:stream'
import t from 'tap'
import { createLogger } from '@xeno/logger'
import { startSyncWorker } from './support/harness.ts'

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
  const {
    producer,
    queue: q,
    events,
  } = await startSyncWorker(t, {
    logger,
    concurrency: 1,
    handlers: {
      'sync-resource': async (_payload, ctx) => {
        ctx.log.info('handler ran')
        return { ok: true }
      },
    },
  })

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
