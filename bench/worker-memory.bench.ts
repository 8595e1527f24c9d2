// Worker memory while streaming a large bulk result: a worker PROCESS (apps/worker/src/main.ts,
// as in production) backfills the orders of a fake shop of N orders (default 1M); this process
// samples the worker's RSS from /proc every 200 ms. Target: peak ≤ 300 MB.
//   pnpm exec node bench/worker-memory.bench.ts [orders=1000000]
import { spawn } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  createTestDatabase,
  TEST_RUNTIME_ROLE,
  TEST_TENANT_CONTEXT_KEY,
} from '../packages/db/src/testing.ts'
import { createDb } from '../packages/db/src/create-db.ts'
import { createFakeShopify } from '../packages/shopify-fake/src/index.ts'
import { createTokenCipher } from '../packages/core/src/crypto/token-cipher.ts'
import { createShopAccessService } from '../packages/core/src/credentials/shop-access.service.ts'
import { createSyncScheduler } from '../packages/core/src/sync/sync-scheduler.ts'
import { createProducer, createRedis } from '../packages/queues/src/index.ts'
import { WORKER_NODE_FLAGS } from '../apps/worker/src/node-flags.ts'

const ORDERS = Number(process.argv[2] ?? 1_000_000)
const WORKER = fileURLToPath(new URL('../apps/worker/src/main.ts', import.meta.url))
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

const tdb = await createTestDatabase()
const fake = await createFakeShopify()
const domain = 'bench-memory.myshopify.com'
const shop = fake.createShop({
  domain,
  orders: ORDERS,
  customers: Math.max(100, Math.floor(ORDERS / 20)),
  products: 500,
  from: '2025-01-01T00:00:00Z',
  to: '2026-11-01T00:00:00Z',
  throttle: { maximumAvailable: 1e9, restoreRate: 1e9 },
})
const ownerPool = createDb({ url: tdb.ownerUrl, applicationName: 'bench', poolMax: 1 }).pool
const tenantId = randomUUID()
await ownerPool.query(`INSERT INTO tenants (id, shop_domain, status) VALUES ($1, $2, 'active')`, [
  tenantId,
  domain,
])
const keyHex = randomBytes(32).toString('hex')
await createShopAccessService({
  db: tdb.db,
  cipher: createTokenCipher({ current: Buffer.from(keyHex, 'hex') }),
  refresh: () => Promise.reject(new Error('unused')),
}).storeGrant(tenantId, {
  accessToken: shop.accessToken,
  scope: shop.scope,
  expiresAt: null,
  refreshToken: null,
  refreshExpiresAt: null,
})

const prefixName = `xeno-bench-${randomBytes(4).toString('hex')}`
const appUrl = new URL(tdb.ownerUrl)
appUrl.username = TEST_RUNTIME_ROLE
appUrl.password = TEST_RUNTIME_ROLE
// The flags production runs the worker with (WORKER_NODE_FLAGS); WORKER_NODE_OPTIONS adds more.
const child = spawn(
  process.execPath,
  [...WORKER_NODE_FLAGS, WORKER, '--queues', 'sync', '--concurrency', '2'],
  {
    env: {
      PATH: process.env.PATH ?? '',
      ...(process.env.WORKER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.WORKER_NODE_OPTIONS } : {}),
      LOG_LEVEL: 'warn',
      DATABASE_URL: appUrl.toString(),
      DATABASE_SYSTEM_URL: tdb.systemUrl,
      TENANT_CONTEXT_KEY: TEST_TENANT_CONTEXT_KEY.toString('hex'),
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefixName,
      API_PEPPER: randomBytes(32).toString('hex'),
      TOKEN_ENCRYPTION_KEY: keyHex,
      SHOPIFY_CLIENT_ID: 'fake-client-id',
      SHOPIFY_CLIENT_SECRET: 'fake-client-secret',
      SHOPIFY_ADMIN_ORIGIN: fake.origin,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
)
const rssMb = (): number => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : 0
  } catch {
    return 0
  }
}
const samples: number[] = []
const sampler = setInterval(() => samples.push(rssMb()), 200)
await new Promise((r) => setTimeout(r, 2000))
const idleMb = rssMb()

const redis = createRedis(redisUrl, 'producer', () => {})
if (redis.status !== 'ready') await new Promise((r) => redis.once('ready', r))
const producer = createProducer({ connection: redis, prefix: `{${prefixName}}` })
const t0 = performance.now()
await createSyncScheduler({ producer }).enqueueTenant(tenantId, 'full', ['orders'])
let state = ''
for (;;) {
  const r = await ownerPool.query<{
    state: string
    last_success_at: Date | null
    last_error: string | null
  }>(
    `SELECT state, last_success_at, last_error FROM sync_checkpoints WHERE tenant_id = $1 AND resource = 'orders'`,
    [tenantId],
  )
  state = r.rows[0]?.state ?? ''
  if (r.rows[0]?.last_success_at || state === 'failed' || state === 'stopped') break
  await new Promise((res) => setTimeout(res, 500))
}
const seconds = (performance.now() - t0) / 1000
clearInterval(sampler)
const rows = await ownerPool.query<{ o: string; l: string }>(
  `SELECT (SELECT count(*) FROM orders) o, (SELECT count(*) FROM order_line_items) l`,
)
const sorted = [...samples].sort((a, b) => a - b)
console.log(
  JSON.stringify(
    {
      orders: ORDERS,
      stored: { orders: Number(rows.rows[0]?.o), line_items: Number(rows.rows[0]?.l) },
      state,
      seconds,
      idleRssMb: Math.round(idleMb),
      peakRssMb: Math.round(sorted.at(-1) ?? 0),
      medianRssMb: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0),
      samples: samples.length,
      workerFlags: [...WORKER_NODE_FLAGS, process.env.WORKER_NODE_OPTIONS ?? ''].join(' ').trim(),
      target: 'peak <= 300 MB',
    },
    null,
    2,
  ),
)
child.kill('SIGTERM')
await producer.close()
redis.disconnect()
await ownerPool.end()
await fake.close()
await tdb.close()
process.exit(0)
