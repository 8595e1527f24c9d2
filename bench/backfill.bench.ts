// Backfill throughput: a fake shop of N orders (default 1M) ingested by the real backfill path
// (bulk operation → streamed JSONL → staged → guarded merge into orders, line items, refunds),
// as a ratio to a raw server-side COPY of the same rows into the same tables, in the same run.
//   pnpm exec node bench/backfill.bench.ts [orders=1000000] [rounds=3]
// Each round resumes the same completed bulk operation (the path a restarted worker takes), so
// the time measured is ours: download, parse, stage, merge. Shopify's own time to build the
// file (the fake's here) is reported separately from the first, fresh run.
import { randomBytes, randomUUID } from 'node:crypto'
import { Writable } from 'node:stream'
import { createTestDatabase } from '../packages/db/src/testing.ts'
import { createDb } from '../packages/db/src/create-db.ts'
import { createLogger } from '../packages/logger/src/index.ts'
import { createShopifyAdmin } from '../packages/shopify/src/index.ts'
import { createFakeShopify } from '../packages/shopify-fake/src/index.ts'
import { createTokenCipher } from '../packages/core/src/crypto/token-cipher.ts'
import { createShopAccessService } from '../packages/core/src/credentials/shop-access.service.ts'
import { createSyncService } from '../packages/core/src/sync/sync.service.ts'
import { median } from './support/load.ts'

const ORDERS = Number(process.argv[2] ?? 1_000_000)
const ROUNDS = Number(process.argv[3] ?? 3)

const tdb = await createTestDatabase()
const fake = await createFakeShopify()
const domain = 'bench-backfill.myshopify.com'
const shop = fake.createShop({
  domain,
  orders: ORDERS,
  customers: Math.max(100, Math.floor(ORDERS / 20)),
  products: 500,
  from: '2025-01-01T00:00:00Z',
  to: '2026-11-01T00:00:00Z',
  throttle: { maximumAvailable: 1e9, restoreRate: 1e9 },
})
// One owner connection (superuser): server-side COPY, truncation, counts.
const ownerPool = createDb({
  url: tdb.ownerUrl,
  applicationName: 'bench',
  poolMax: 1,
  statementTimeoutMs: 0,
}).pool
const owner = await ownerPool.connect()
const tenantId = randomUUID()
await owner.query(`INSERT INTO tenants (id, shop_domain, status) VALUES ($1, $2, 'active')`, [
  tenantId,
  domain,
])
const admin = createShopifyAdmin({
  clientId: 'fake-client-id',
  clientSecret: 'fake-client-secret',
  adminOrigin: fake.origin,
})
const access = createShopAccessService({
  db: tdb.db,
  cipher: createTokenCipher({ current: randomBytes(32) }),
  refresh: admin.refreshAccessToken,
})
await access.storeGrant(tenantId, {
  accessToken: shop.accessToken,
  scope: shop.scope,
  expiresAt: null,
  refreshToken: null,
  refreshExpiresAt: null,
})
// The sync logs where each bulk merge's time went; the benchmark reads it from there.
type Phases = { streamMs: number; mergeMs: number; rollupsMs: number }
const phases: Phases[] = []
const sync = createSyncService({
  db: tdb.db,
  admin,
  access,
  log: createLogger({
    level: 'info',
    destination: new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split('\n')) {
          if (!line.includes('bulk result merged')) continue
          const j = JSON.parse(line) as Phases
          phases.push({ streamMs: j.streamMs, mergeMs: j.mergeMs, rollupsMs: j.rollupsMs })
        }
        cb()
      },
    }),
  }),
  options: { bulkPollMs: 200 },
})

const clear = () => owner.query('TRUNCATE orders, order_line_items, refunds')
const counts = async () =>
  (
    await owner.query<{ o: string; l: string; r: string }>(
      `SELECT (SELECT count(*) FROM orders) o, (SELECT count(*) FROM order_line_items) l, (SELECT count(*) FROM refunds) r`,
    )
  ).rows[0]!

// Fresh run: Shopify (the fake) builds the file, then we ingest it.
const f0 = performance.now()
const first = await sync.run(tenantId, 'orders', 'full')
const freshSeconds = (performance.now() - f0) / 1000
if (first.status !== 'done') throw new Error(`backfill did not run: ${first.status}`)
const opRow = await owner.query<{ id: string }>(
  `SELECT bulk_operation_id AS id FROM sync_checkpoints WHERE tenant_id = $1 AND resource = 'orders'`,
  [tenantId],
)
void opRow
const ops = await admin.forShop(domain, shop.accessToken).request<{
  bulkOperations: {
    nodes: { id: string; createdAt: string; completedAt: string; objectCount: string }[]
  }
}>('{ bulkOperations(first: 5) { nodes { id createdAt completedAt objectCount } } }')
const op = ops.bulkOperations.nodes.at(-1)!
const c = await counts()
const rows = Number(c.o) + Number(c.l) + Number(c.r)

const ours: number[] = []
const copies: number[] = []
const files = {
  orders: '/tmp/xeno-bench-orders.copy',
  order_line_items: '/tmp/xeno-bench-lines.copy',
  refunds: '/tmp/xeno-bench-refunds.copy',
}
for (let i = 0; i < ROUNDS; i++) {
  // Ours: resume the completed operation into empty tables.
  await clear()
  await owner.query(
    `UPDATE sync_checkpoints SET bulk_operation_id = $2, bulk_mode = 'full', bulk_started_at = now(), cursor_updated_at = NULL WHERE tenant_id = $1 AND resource = 'orders'`,
    [tenantId, op.id],
  )
  await owner.query('CHECKPOINT')
  const t0 = performance.now()
  const out = await sync.run(tenantId, 'orders', 'full')
  ours.push((performance.now() - t0) / 1000)
  if (out.status !== 'done') throw new Error('round did not run')
  // Raw COPY of exactly those rows into the same tables.
  for (const [table, file] of Object.entries(files)) await owner.query(`COPY ${table} TO '${file}'`)
  await clear()
  await owner.query('CHECKPOINT')
  const t1 = performance.now()
  await owner.query('BEGIN')
  for (const [table, file] of Object.entries(files))
    await owner.query(`COPY ${table} FROM '${file}'`)
  await owner.query('COMMIT')
  copies.push((performance.now() - t1) / 1000)
}
// The ratio compares like with like: the rows into orders, line items and refunds (download,
// parse, stage, guarded merge) against COPY of the same rows into the same tables. The analytics
// rollup rebuild that follows (derived tables COPY does not build) is reported beside it, and
// the ratio with it included too.
const roundPhases = phases.slice(-ROUNDS)
const rollups = roundPhases.map((p) => p.rollupsMs / 1000)
const ingest = ours.map((s, i) => s - (rollups[i] ?? 0))
const oursS = median(ingest)
const copyS = median(copies)
const withRollupsS = median(ours)
console.log(
  JSON.stringify(
    {
      orders: ORDERS,
      rows: { orders: Number(c.o), line_items: Number(c.l), refunds: Number(c.r), total: rows },
      bulkObjectCount: Number(op.objectCount),
      shopifyBuildSeconds: (Date.parse(op.completedAt) - Date.parse(op.createdAt)) / 1000,
      freshRunSeconds: freshSeconds,
      rounds: ROUNDS,
      oursSeconds: ingest,
      phases: roundPhases,
      withRollupsSeconds: ours,
      copySeconds: copies,
      oursRowsPerSec: Math.round(rows / oursS),
      copyRowsPerSec: Math.round(rows / copyS),
      ratio: Number((copyS / oursS).toFixed(3)),
      ratioWithRollups: Number((copyS / withRollupsS).toFixed(3)),
      target: 0.35,
    },
    null,
    2,
  ),
)
owner.release()
await ownerPool.end()
await fake.close()
await tdb.close()
process.exit(0)
