// A job whose worker died (kill -9, no chance to hand it back) is picked up by another worker
// within 15 s of that worker starting: lock duration, stalled interval and the stalled check at
// start (apps/worker/src/worker.ts) decide it. Real worker processes, the fake Shopify.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createFakeShopify } from '@xeno/shopify-fake'
import { buildTestApp } from './support/app.ts'
import { startProcess, type Spawned } from './support/process.ts'
import { shopTenant } from './support/shop-tenant.ts'

const WORKER = fileURLToPath(new URL('../../worker/src/main.ts', import.meta.url))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function waitFor(p: Spawned, re: RegExp, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!re.test(p.output())) {
    if (Date.now() > deadline) throw new Error(`no ${String(re)} in:\n${p.output().slice(-3000)}`)
    await sleep(50)
  }
}

t.test('a job of a killed worker goes to a new worker within 15 s of its start', async (t) => {
  // A bulk operation that runs long enough for the kill to land while the job waits on it.
  const fake = await createFakeShopify({ bulkMinDurationMs: 60_000 })
  t.teardown(() => fake.close())
  const prefixName = `xeno-takeover-${randomBytes(4).toString('hex')}`
  const h = await buildTestApp(t, { queuePrefix: `{${prefixName}}` })
  const s = await shopTenant(h, fake, { orders: 200, customers: 20, products: 5 })
  const env = s.workerEnv(prefixName)
  const args = ['--queues', 'sync', '--concurrency', '2']

  const first = startProcess(WORKER, env, args)
  t.teardown(() => first.child.kill('SIGKILL'))
  const res = await s.ingest({ resources: ['orders'], mode: 'full' })
  t.equal(res.statusCode, 202, res.body)
  const jobId = res.json<{ data: { jobs: { job_id: string }[] } }>().data.jobs[0]!.job_id
  await waitFor(first, /bulk operation started/, 60_000)
  first.child.kill('SIGKILL')
  await first.exited
  const queue = h.producer.queue('sync')
  t.equal(await queue.getJobState(jobId), 'active', 'left active by the dead worker')

  const startedAt = Date.now()
  // Enough slots that the tenant's other backfills (queued by its schedules) leave one free.
  const second = startProcess(WORKER, env, ['--queues', 'sync', '--concurrency', '8'])
  t.teardown(() => second.child.kill('SIGKILL'))
  // Picked up: moved to active again (processedOn is set as a worker takes the job).
  let tookMs = -1
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    const j = await queue.getJob(jobId)
    if (j?.processedOn && j.processedOn >= startedAt) {
      tookMs = j.processedOn - startedAt
      break
    }
    await sleep(100)
  }
  t.ok(tookMs >= 0 && tookMs < 15_000, `the new worker took the job ${tookMs} ms after its start`)
  t.comment(`takeover: ${tookMs} ms after the new worker started`)
  const job = await queue.getJob(jobId)
  t.equal(job?.attemptsMade ?? 0, 0, 'no attempt spent on the death (a stall, not a failure)')
  second.child.kill('SIGTERM')
  t.equal(await second.exited, 0)
})
