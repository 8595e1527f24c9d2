// Redis dies in the middle of a webhook burst (a private redis-server, killed with SIGKILL and
// started again empty): every webhook the API acknowledged with 200 is in Postgres, and once Redis
// is back the sweeper re-enqueues what was lost, and a worker applies all of it.
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { connect } from 'node:net'
import t from 'tap'
import {
  createComplianceRepository,
  createWebhookApi,
  createWebhookProcessor,
  createWebhookReceiptRepository,
  createWebhookSweeper,
} from '@xeno/core'
import { createLogger } from '@xeno/logger'
import { createProducer, createRedis } from '@xeno/queues'
import { testQueuePrefix } from '@xeno/queues/testing'
import { createWorker } from '../../worker/src/worker.ts'
import { processWebhookJob } from '../../worker/src/jobs/process-webhook.job.ts'
import { buildTestApp } from './support/app.ts'
import { freePort } from './support/process.ts'
import { signedHeaders } from './support/webhooks.ts'
import { shopForTenant } from './support/readback.ts'

const SECRET = 'outage-secret'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  )
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1')
      sock.once('connect', () => {
        sock.end()
        resolve(true)
      })
      sock.once('error', () => resolve(false))
    })
    if (up) return child
    await sleep(100)
  }
  throw new Error('redis-server did not start')
}

t.test(
  'Redis killed during a webhook burst: nothing acknowledged is lost',
  // Applying reads every customer back from the fake shop: slower than the body alone.
  { timeout: 120_000 },
  async (t) => {
    const port = await freePort()
    let redisProc = await startRedis(port)
    t.teardown(() => {
      redisProc.kill('SIGKILL')
    })
    const url = `redis://127.0.0.1:${port}`
    const logger = createLogger({ level: 'silent' })
    const prefix = testQueuePrefix()
    const redis = createRedis(url, 'producer', () => {})
    const producer = createProducer({ connection: redis, prefix })
    t.teardown(async () => {
      await producer.close().catch(() => {})
      redis.disconnect()
    })

    const h = await buildTestApp(t, {
      deps: ({ db }) => ({
        webhooks: createWebhookApi({ db, producer, secrets: [SECRET], logger }),
      }),
    })
    // The sweeper runs in the worker, as the system role.
    const sweeper = createWebhookSweeper({
      receipts: createWebhookReceiptRepository(h.systemDb),
      producer,
      logger,
    })
    const tenant = await h.tenant('outage-store')
    // The worker reads each customer back from the shop (the body is only a signal).
    const shop = await shopForTenant(t, {
      db: h.db,
      ownerQuery: h.ownerQuery,
      tenantId: tenant.id,
      domain: tenant.shopDomain,
    })
    const ids = Array.from({ length: 150 }, (_, i) =>
      String(shop.store.createCustomer({ firstName: `C${i}`, email: `c${i}@example.com` }).id),
    )

    const acked: string[] = []
    const other: number[] = []
    const send = async (i: number) => {
      const body = JSON.stringify({
        id: Number(ids[i]),
        admin_graphql_api_id: `gid://shopify/Customer/${ids[i]}`,
        first_name: `C${i}`,
        email: `c${i}@example.com`,
        created_at: '2026-11-01T10:00:00Z',
        updated_at: '2026-11-01T10:00:00Z',
        tags: '',
      })
      const webhookId = randomUUID()
      const res = await h.app.inject({
        method: 'POST',
        url: '/api/webhooks/customers/create',
        headers: signedHeaders('customers/create', body, SECRET, tenant.shopDomain, webhookId),
        payload: body,
      })
      if (res.statusCode === 200) acked.push(webhookId)
      else other.push(res.statusCode)
    }
    // 150 deliveries, 10 at a time; Redis dies after the first 50.
    for (let i = 0; i < 150; i += 10) {
      if (i === 50) redisProc.kill('SIGKILL')
      await Promise.all(Array.from({ length: 10 }, (_, k) => send(i + k)))
    }
    t.equal(acked.length, 150, 'every delivery acknowledged (Postgres was up)')
    t.same(other, [])
    const stored = await h.ownerQuery<{ webhook_id: string }>(
      'SELECT webhook_id FROM webhook_receipts WHERE tenant_id = $1',
      [tenant.id],
    )
    t.same(
      new Set(stored.map((r) => r.webhook_id)),
      new Set(acked),
      'every acknowledged webhook is in Postgres',
    )

    // Redis comes back empty (no persistence): even the jobs enqueued before the crash are gone.
    redisProc = await startRedis(port)
    for (let i = 0; i < 100 && redis.status !== 'ready'; i++) await sleep(100)
    const swept = await sweeper.sweep(0, 1000)
    t.equal(swept.enqueued, 150, 'the sweeper enqueued every receipt still received')

    const processor = createWebhookProcessor({
      db: h.db,
      receipts: createWebhookReceiptRepository(h.db),
      compliance: createComplianceRepository(h.db),
      readback: shop.readback,
      logger,
    })
    const worker = createWorker({
      logger,
      connect: () => createRedis(url, 'worker', () => {}),
      prefix,
      queues: ['webhooks'],
      concurrency: 8,
      handlers: { 'process-webhook': processWebhookJob({ processor }) },
    })
    worker.start()
    t.teardown(() => worker.stop())
    let processed = 0
    for (let i = 0; i < 200 && processed < 150; i++) {
      const [row] = await h.ownerQuery<{ n: number }>(
        `SELECT count(*)::int AS n FROM webhook_receipts WHERE tenant_id = $1 AND status = 'processed'`,
        [tenant.id],
      )
      processed = row!.n
      if (processed < 150) await sleep(100)
    }
    t.equal(processed, 150, 'all applied')
    const [customers] = await h.ownerQuery<{ n: number }>(
      'SELECT count(*)::int AS n FROM customers WHERE tenant_id = $1',
      [tenant.id],
    )
    t.equal(customers?.n, 150)
  },
)
