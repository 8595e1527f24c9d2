// Webhook intake vs a bare Fastify route that accepts the same body, over real HTTP, in one run.
// Target (issue 6): intake (raw body → HMAC check → tenant lookup → inbox INSERT → BullMQ enqueue
// → 200) reaches ≥ 0.30 of the bare route's throughput at 50 concurrent connections, p99 < 50 ms.
//
//   pnpm exec node bench/webhook-intake.bench.ts [--rounds 5] [--seconds 4] [--concurrency 50]
//
// Every intake request carries a fresh X-Shopify-Webhook-Id, so each one is a real insert and a
// real job. Rounds alternate which server goes first; reported numbers are medians. Prints JSON.
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { parseArgs } from 'node:util'
import Fastify from 'fastify'
import pg from 'pg'
import type { AddressInfo } from 'node:net'
import { createTestDatabase } from '../packages/db/src/testing.ts'
import { createLogger } from '../packages/logger/src/index.ts'
import { createProducer, createRedis } from '../packages/queues/src/index.ts'
import { dropQueueKeys, testQueuePrefix, testRedisUrl } from '../packages/queues/src/testing.ts'
import { createHealthService, createWebhookApi } from '../packages/core/src/index.ts'
import { webhookHmac } from '../packages/shopify/src/index.ts'
import { WEBHOOK_SAMPLES_DIR } from '../packages/shopify-reference/src/index.ts'
import { buildApp } from '../apps/api/src/app.ts'
import { median, runLoad } from './support/load.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '4' },
    concurrency: { type: 'string', default: '50' },
  },
})
const ROUNDS = Number(values.rounds)
const DURATION_MS = Number(values.seconds) * 1000
const CONCURRENCY = Number(values.concurrency)
const SECRET = 'bench-secret'
const SHOP = 'bench-store.myshopify.com'

// Shopify's own orders/create sample (≈ 10 KB with line items, addresses, money sets).
const body = readFileSync(`${WEBHOOK_SAMPLES_DIR}orders__create.json`, 'utf8')
const logger = createLogger({ level: 'silent' })

const tdb = await createTestDatabase()
const ownerClient = new pg.Client({ connectionString: tdb.ownerUrl })
await ownerClient.connect()
await ownerClient.query(`INSERT INTO tenants (shop_domain, status) VALUES ($1, 'active')`, [SHOP])

const redis = createRedis(testRedisUrl(), 'producer', () => {})
await new Promise((r) => redis.once('ready', r))
const prefix = testQueuePrefix()
const producer = createProducer({ connection: redis, prefix })
const intakeApp = await buildApp({
  logger,
  health: createHealthService({ pingDb: async () => true, pingRedis: async () => true }),
  webhooks: createWebhookApi({ db: tdb.db, producer, secrets: [SECRET], logger }),
})
await intakeApp.listen({ port: 0, host: '127.0.0.1' })

// The baseline: Fastify parsing the same JSON body and answering 200.
const bare = Fastify({ bodyLimit: 5 * 1024 * 1024 })
bare.post('/api/webhooks/:resource/:event', async () => ({ data: { status: 'accepted' } }))
await bare.listen({ port: 0, host: '127.0.0.1' })

const port = (a: { server: { address(): unknown } }) => (a.server.address() as AddressInfo).port
const headers = {
  'content-type': 'application/json',
  'x-shopify-topic': 'orders/create',
  'x-shopify-hmac-sha256': webhookHmac(body, SECRET),
  'x-shopify-shop-domain': SHOP,
  'x-shopify-api-version': '2026-10',
  'x-shopify-triggered-at': new Date().toISOString(),
}
const run = (p: number) =>
  runLoad({
    url: `http://127.0.0.1:${p}/api/webhooks/orders/create`,
    method: 'POST',
    headers,
    body,
    uniqueHeader: 'x-shopify-webhook-id',
    concurrency: CONCURRENCY,
    durationMs: DURATION_MS,
  })

// Warm-up: JIT, pools, prepared plans.
await run(port(bare))
await run(port(intakeApp))
const rounds: { bare: Awaited<ReturnType<typeof run>>; intake: Awaited<ReturnType<typeof run>> }[] =
  []
for (let i = 0; i < ROUNDS; i++) {
  if (i % 2 === 0) {
    const b = await run(port(bare))
    rounds.push({ bare: b, intake: await run(port(intakeApp)) })
  } else {
    const n = await run(port(intakeApp))
    rounds.push({ bare: await run(port(bare)), intake: n })
  }
}
const { rows } = await ownerClient.query<{ n: number }>(
  'SELECT count(*)::int AS n FROM webhook_receipts',
)
await ownerClient.end()

const bareRps = median(rounds.map((r) => r.bare.rps))
const intakeRps = median(rounds.map((r) => r.intake.rps))
console.log(
  JSON.stringify(
    {
      benchmark: 'webhook-intake-vs-bare-fastify',
      target: { ratio: '>= 0.30', p99Ms: '< 50' },
      ratio: Number((intakeRps / bareRps).toFixed(3)),
      intake: {
        rps: Math.round(intakeRps),
        p50Ms: Number(median(rounds.map((r) => r.intake.p50Ms)).toFixed(1)),
        p99Ms: Number(median(rounds.map((r) => r.intake.p99Ms)).toFixed(1)),
        failed: rounds.reduce((n, r) => n + r.intake.failed, 0),
      },
      bare: {
        rps: Math.round(bareRps),
        p99Ms: Number(median(rounds.map((r) => r.bare.p99Ms)).toFixed(1)),
      },
      receiptsStored: rows[0]?.n,
      bodyBytes: Buffer.byteLength(body),
      rounds: ROUNDS,
      secondsPerRound: DURATION_MS / 1000,
      concurrency: CONCURRENCY,
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        node: process.version,
        loadavg: os.loadavg().map((x) => x.toFixed(2)),
      },
    },
    null,
    2,
  ),
)
await intakeApp.close()
await bare.close()
await producer.close()
// Some 100k jobs nobody processes: leave nothing behind on the machine's Redis.
await dropQueueKeys(redis, prefix)
redis.disconnect()
await tdb.close()
