// What the webhook ownership proof costs the worker: order deliveries applied per second when the
// processor reads each order back from the header shop's Admin API (batched `nodes(ids:)`
// queries against the fake Shopify over HTTP) versus applying the delivery's own REST body (what
// the processor did before; reproduced here with the same normaliser and writers), in one run.
//
//   pnpm exec node bench/webhook-processing.bench.ts [--rounds 3] [--orders 200] [--concurrency 8]
//
// Each round stores fresh receipts and applies them with `concurrency` at once (a worker's
// WORKER_CONCURRENCY). Prints JSON; the median of the rounds is reported.
import os from 'node:os'
import { randomBytes, randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import { createTestDatabase } from '../packages/db/src/testing.ts'
import { withTenant } from '../packages/db/src/index.ts'
import { createLogger } from '../packages/logger/src/index.ts'
import {
  createShopifyAdmin,
  orderFromRest,
  parseShopifyJson,
} from '../packages/shopify/src/index.ts'
import { createFakeShopify } from '../packages/shopify-fake/src/index.ts'
import { restOrder } from '../packages/shopify-fake/src/rest.ts'
import {
  createComplianceRepository,
  createShopAccessService,
  createShopReadback,
  createTokenCipher,
  createWebhookProcessor,
  createWebhookReceiptRepository,
  upsertOrders,
  writeWithRollups,
} from '../packages/core/src/index.ts'
import { median } from './support/load.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    orders: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '8' },
  },
})
const ROUNDS = Number(values.rounds)
const ORDERS = Number(values.orders)
const CONCURRENCY = Number(values.concurrency)
const logger = createLogger({ level: 'silent' })

const tdb = await createTestDatabase()
// Real time: the fake's throttle bucket refills with its clock.
const fake = await createFakeShopify()
const domain = 'bench-processing.myshopify.com'
const shop = fake.createShop({ domain, seed: 5, orders: 0, customers: 20, products: 10 })
const store = fake.shop(domain)
const tenantId = randomUUID()
await tdb.ownerQuery(`INSERT INTO tenants (id, shop_domain, status) VALUES ($1, $2, 'active')`, [
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
const receipts = createWebhookReceiptRepository(tdb.db)
const processor = createWebhookProcessor({
  db: tdb.db,
  receipts,
  compliance: createComplianceRepository(tdb.db),
  readback: createShopReadback({ admin, access, logger }),
  logger,
})

// Orders of the shop and their REST bodies as Shopify sends them (the fake's own renderer).
const data = store.data()
const products = data.products.filter((p) => p !== null)
const restBodies: string[] = []
for (let i = 0; i < ORDERS * ROUNDS * 2; i++) {
  const o = store.createOrder({
    lineItems: [
      { productId: products[i % products.length]!.id, quantity: 1 + (i % 3) },
      { productId: products[(i + 1) % products.length]!.id, quantity: 1 },
    ],
  })
  restBodies.push(JSON.stringify(restOrder(o, data.spec.info, null)))
}

async function pool<T>(items: T[], fn: (x: T) => Promise<unknown>) {
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) await fn(items[next++]!)
    }),
  )
}

async function store_(batch: string[]) {
  return Promise.all(
    batch.map(
      async (payloadText) =>
        (
          await receipts.insertMany([
            {
              tenantId,
              webhookId: randomUUID(),
              eventId: null,
              topic: 'orders/updated',
              apiVersion: '2026-07',
              triggeredAt: null,
              payloadText,
            },
          ])
        )[0]!.id,
    ),
  )
}

/** Before: the delivery's body normalised and written, the receipt finished, one transaction. */
async function applyBody(receiptId: string, text: string) {
  await withTenant(tdb.db, tenantId, async (trx) => {
    const r = await receipts.lockForProcessing(trx, tenantId, receiptId)
    if (!r || r.status !== 'received') return
    const bundle = orderFromRest(parseShopifyJson(text) as Record<string, unknown>)
    await writeWithRollups(trx, tenantId, { orderIds: [bundle.order.id] }, () =>
      upsertOrders(trx, tenantId, [bundle]),
    )
    await receipts.finish(trx, tenantId, receiptId, 'processed', new Date())
  })
}

const rounds: { body: number; readback: number }[] = []
let offset = 0
for (let round = 0; round < ROUNDS; round++) {
  const result = { body: 0, readback: 0 }
  for (const mode of round % 2
    ? (['readback', 'body'] as const)
    : (['body', 'readback'] as const)) {
    const batch = restBodies.slice(offset, offset + ORDERS)
    offset += ORDERS
    const ids = await store_(batch)
    const started = performance.now()
    await pool(
      ids.map((id, i) => [id, batch[i]!] as const),
      ([id, text]) => (mode === 'body' ? applyBody(id, text) : processor.process(tenantId, id)),
    )
    result[mode] = Number(((ORDERS / (performance.now() - started)) * 1000).toFixed(2))
  }
  rounds.push(result)
}
const body = median(rounds.map((r) => r.body))
const readback = median(rounds.map((r) => r.readback))
console.log(
  JSON.stringify(
    {
      bench: 'webhook-processing',
      orders: ORDERS,
      concurrency: CONCURRENCY,
      rounds,
      bodyPerSecond: body,
      readbackPerSecond: readback,
      ratio: Number((readback / body).toFixed(3)),
      loadavg: os.loadavg(),
    },
    null,
    2,
  ),
)
await fake.close()
await tdb.close()
process.exit(0)
