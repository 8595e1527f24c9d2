import t from 'tap'
import { createLogger } from '@xeno/logger'
import { startSyncWorker } from './support/harness.ts'
import { parseWorkerArgs, loadWorkerConfig } from '../src/config.ts'

const logger = createLogger({ level: 'silent' })
const tenantId = '5f4dcc3b-5aa7-4c6a-8e1f-0a1b2c3d4e5f'

t.test('runs catalog jobs with validated payloads; bad payloads fail without retry', async (t) => {
  const seen: unknown[] = []
  const {
    producer,
    queue: q,
    events,
  } = await startSyncWorker(t, {
    logger,
    handlers: {
      'sync-resource': async (payload) => {
        seen.push(payload)
        return { ok: true }
      },
    },
  })
  await new Promise((r) => setTimeout(r, 100))

  const id = await producer.enqueue('sync-resource', {
    tenantId,
    resource: 'customers',
    mode: 'incremental',
  })
  const job = await q.getJob(id)
  t.same(await job!.waitUntilFinished(events, 10_000), { ok: true })
  t.same(seen, [{ tenantId, resource: 'customers', mode: 'incremental' }])

  // A payload that bypassed the producer's validation is refused by the worker, once.
  const bad = await q.add('sync-resource', { tenantId: 'x' }, { attempts: 5 })
  await t.rejects(bad.waitUntilFinished(events, 10_000), /invalid payload/)
  const failed = await q.getJob(bad.id!)
  t.equal(failed?.attemptsMade, 1, 'not retried')

  // A job nobody handles fails loudly instead of succeeding silently.
  const orphan = await q.add('no-such-job', {}, { attempts: 3 })
  await t.rejects(orphan.waitUntilFinished(events, 10_000), /unknown job/)
})

t.test('--queues and --concurrency', async (t) => {
  const config = loadWorkerConfig({
    DATABASE_URL: 'postgres://x@127.0.0.1/x',
    DATABASE_SYSTEM_URL: 'postgres://y@127.0.0.1/x',
    API_PEPPER: 'p'.repeat(32),
    TOKEN_ENCRYPTION_KEY: 'a'.repeat(64),
    SHOPIFY_CLIENT_ID: 'id',
    SHOPIFY_CLIENT_SECRET: 's',
    WORKER_QUEUES: 'sync',
  })
  t.same(parseWorkerArgs([], config), { queues: ['sync'], concurrency: 4, exporter: false })
  t.same(parseWorkerArgs(['--queues', 'webhooks,sync', '--concurrency=8'], config), {
    queues: ['webhooks', 'sync'],
    concurrency: 8,
    exporter: false,
  })
  // The fleet exporter serves on the worker's metrics listener, so it needs one.
  t.throws(() => parseWorkerArgs(['--exporter'], config), /needs WORKER_METRICS_PORT/)
  const withPort = { ...config, WORKER_METRICS_PORT: 9464 }
  t.equal(parseWorkerArgs(['--exporter'], withPort).exporter, true)
  t.equal(parseWorkerArgs([], { ...withPort, WORKER_EXPORTER: true }).exporter, true)
  t.throws(() => parseWorkerArgs(['--queues', 'nope'], config), /unknown queue nope/)
  t.throws(() => parseWorkerArgs(['--concurrency', '0'], config), /concurrency/)
  t.throws(() => parseWorkerArgs(['--bogus'], config), /unknown option/)
})

t.test('the worker needs its own cross-tenant role', async (t) => {
  t.throws(
    () =>
      loadWorkerConfig({
        DATABASE_URL: 'postgres://x@127.0.0.1/x',
        API_PEPPER: 'p'.repeat(32),
        TOKEN_ENCRYPTION_KEY: 'a'.repeat(64),
        SHOPIFY_CLIENT_ID: 'id',
        SHOPIFY_CLIENT_SECRET: 's',
      }),
    /DATABASE_SYSTEM_URL/,
  )
})
