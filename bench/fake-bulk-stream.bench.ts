// Relative import: the root package does not depend on workspace packages.
import { createFakeShopify } from '../packages/shopify-fake/src/index.ts'

// Streams the bulk JSONL of a 1M-order fake shop (orders + line items) over HTTP and reports
// throughput and peak RSS, medians of 3 rounds. Not a timed test: run `node bench/fake-bulk-stream.bench.ts`.
const ORDERS = Number(process.argv[2] ?? 1_000_000)
const ROUNDS = 3
const QUERY = `{ orders { edges { node { id name createdAt updatedAt processedAt displayFinancialStatus test
  totalPriceSet { shopMoney { amount currencyCode } } totalRefundedSet { shopMoney { amount } } customer { id }
  lineItems { edges { node { id sku quantity originalUnitPriceSet { shopMoney { amount } } discountedTotalSet { shopMoney { amount } } } } } } } } }`

const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0

const fake = await createFakeShopify()
const shop = fake.createShop({
  domain: 'bench',
  orders: ORDERS,
  customers: 50_000,
  products: 500,
  from: '2025-01-01T00:00:00Z',
  to: '2026-11-01T00:00:00Z',
  throttle: { maximumAvailable: 1e9, restoreRate: 1e9 },
})
const gql = async (query: string, variables: Record<string, unknown> = {}): Promise<any> => {
  const r = await fetch(`${fake.origin}/admin/api/2026-10/graphql.json`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-access-token': shop.accessToken,
      'x-fake-shop': shop.domain,
    },
    body: JSON.stringify({ query, variables }),
  })
  return r.json()
}

let peakRss = 0
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50)
const run = await gql(
  'mutation($q: String!) { bulkOperationRunQuery(query: $q) { bulkOperation { id } userErrors { message } } }',
  { q: QUERY },
)
const id = run.data.bulkOperationRunQuery.bulkOperation.id as string
const prepStart = performance.now()
let op: any
for (;;) {
  op = (
    await gql(
      'query($id: ID!) { bulkOperation(id: $id) { status url objectCount rootObjectCount fileSize } }',
      { id },
    )
  ).data.bulkOperation
  if (op.status === 'COMPLETED' || op.status === 'FAILED') break
  await new Promise((r) => setTimeout(r, 500))
}
const prepSeconds = (performance.now() - prepStart) / 1000

const rounds: { mbPerSec: number; seconds: number; bytes: number; peakRssMb: number }[] = []
for (let i = 0; i < ROUNDS; i++) {
  peakRss = process.memoryUsage().rss
  const t0 = performance.now()
  const res = await fetch(op.url)
  let bytes = 0
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
    bytes += chunk.byteLength
  const seconds = (performance.now() - t0) / 1000
  rounds.push({ mbPerSec: bytes / 1e6 / seconds, seconds, bytes, peakRssMb: peakRss / 1e6 })
}
clearInterval(sampler)
console.log(
  JSON.stringify(
    {
      orders: ORDERS,
      objectCount: Number(op.objectCount),
      rootObjectCount: Number(op.rootObjectCount),
      fileSizeMb: Number(op.fileSize) / 1e6,
      bulkCompleteSeconds: prepSeconds,
      medianMbPerSec: median(rounds.map((r) => r.mbPerSec)),
      medianSeconds: median(rounds.map((r) => r.seconds)),
      medianPeakRssMb: median(rounds.map((r) => r.peakRssMb)),
      rounds,
    },
    null,
    2,
  ),
)
await fake.close()
