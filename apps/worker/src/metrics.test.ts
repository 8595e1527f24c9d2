// A worker's /metrics: Prometheus text with job outcomes and durations per queue and job name,
// moving as jobs complete and fail; the bearer token is enforced when set.
import { createRequire } from 'node:module'
import t from 'tap'
import { createLogger } from '@xeno/logger'
import { startSyncWorker } from '../test/support/harness.ts'
import { createWorkerMetrics, startMetricsServer } from './metrics.ts'

const logger = createLogger({ level: 'silent' })
const tenantId = '5f4dcc3b-5aa7-4c6a-8e1f-0a1b2c3d4e5f'
const TOKEN = 'worker-metrics-token-0123'

t.test('job counters and durations move as jobs complete and fail', async (t) => {
  const {
    worker,
    producer,
    queue: q,
    events,
  } = await startSyncWorker(t, {
    logger,
    handlers: {
      'sync-resource': async (payload) => {
        await new Promise((r) => setTimeout(r, 20))
        if (payload.resource === 'orders') throw new Error('boom')
        return { ok: true }
      },
    },
  })
  const metrics = createWorkerMetrics()
  for (const w of worker.workers()) metrics.attach(w)
  const server = await startMetricsServer({
    registry: metrics.registry,
    port: 0,
    host: '127.0.0.1',
    token: TOKEN,
    logger,
  })
  t.teardown(() => server.close())

  const url = `http://127.0.0.1:${server.port}/metrics`
  t.equal((await fetch(url)).status, 401, 'token required')
  const scrape = async () => {
    const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } })
    t.equal(res.status, 200)
    return res.text()
  }
  const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (
    s: string,
  ) => { name: string }[]
  const first = await scrape()
  t.ok(parse(first).some((f) => f.name === 'process_cpu_user_seconds_total'))
  t.notMatch(first, /xeno_jobs_total\{/, 'no job observed yet')

  const ok = await producer.enqueue('sync-resource', {
    tenantId,
    resource: 'customers',
    mode: 'incremental',
  })
  await (await q.getJob(ok))!.waitUntilFinished(events, 10_000)
  // One attempt only, so the failure is final (the catalog's own policy would retry it).
  const bad = await q.add(
    'sync-resource',
    { tenantId, resource: 'orders', mode: 'incremental' },
    { attempts: 1 },
  )
  await t.rejects(bad.waitUntilFinished(events, 10_000), /boom/)
  // The failed event reaches the metrics listener just after the job's own completion event.
  await new Promise((r) => setTimeout(r, 200))

  const text = await scrape()
  t.ok(parse(text).length > 0, 'parses as Prometheus text')
  t.match(text, /^xeno_jobs_total\{queue="sync",job="sync-resource",status="completed"\} 1$/m)
  t.match(text, /^xeno_jobs_total\{queue="sync",job="sync-resource",status="failed"\} 1$/m)
  t.match(
    text,
    /^xeno_job_failures_total\{queue="sync",job="sync-resource",final="true"\} 1$/m,
    'a failure with no attempt left is final',
  )
  const count =
    /^xeno_job_duration_seconds_count\{queue="sync",job="sync-resource",status="completed"\} (\d+)$/m.exec(
      text,
    )?.[1]
  t.equal(count, '1', 'duration observed')
  const sum = Number(
    /^xeno_job_duration_seconds_sum\{queue="sync",job="sync-resource",status="completed"\} (\S+)$/m.exec(
      text,
    )?.[1],
  )
  t.ok(sum >= 0.015, `duration ≈ the handler's 20 ms (${sum})`)
})
