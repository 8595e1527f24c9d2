import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { parse, validate } from 'graphql'
import type { Test } from 'tap'
import { createClock, createFakeShopify, loadSchema } from '../../src/index.ts'
import type { CreatedShop, FakeShopify, FakeShopifyOptions, ShopParams } from '../../src/index.ts'

export const START = Date.parse('2026-11-01T12:00:00Z')
export const FROM = '2025-11-01T00:00:00Z'
export const TO = '2026-11-01T00:00:00Z'

export type GqlResponse = {
  data?: Record<string, any> | null
  errors?: any
  extensions?: { cost?: any; search?: any[] }
}

/** A fake on a manual clock plus one shop, torn down with the test. */
export async function startFake(
  t: Test,
  shop: Partial<ShopParams> & { scopes?: string[] } = {},
  opts: FakeShopifyOptions = {},
): Promise<{
  fake: FakeShopify
  shop: CreatedShop
  gql: (query: string, variables?: Record<string, unknown>, token?: string) => Promise<GqlResponse>
}> {
  const fake = await createFakeShopify({
    clock: createClock({ start: START, auto: false }),
    ...opts,
  })
  t.teardown(() => fake.close())
  const created = fake.createShop({
    domain: 'acme',
    seed: 42,
    orders: 300,
    customers: 60,
    products: 20,
    from: FROM,
    to: TO,
    // Tests that are not about throttling get a bucket they cannot drain.
    throttle: { maximumAvailable: 1e9, restoreRate: 1e9 },
    ...shop,
  })
  const schema = loadSchema()
  const gql = async (
    query: string,
    variables: Record<string, unknown> = {},
    token = created.accessToken,
  ): Promise<GqlResponse> => {
    // Every document a test sends must be valid against the saved 2026-10 schema.
    const errs = validate(schema, parse(query))
    if (errs.length > 0)
      throw new Error(`test query does not validate: ${errs.map((e) => e.message).join('; ')}`)
    const r = await fetch(`${fake.origin}/admin/api/2026-10/graphql.json`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-access-token': token,
        'x-fake-shop': created.domain,
      },
      body: JSON.stringify({ query, variables }),
    })
    return (await r.json()) as GqlResponse
  }
  return { fake, shop: created, gql }
}

export type Received = { headers: http.IncomingHttpHeaders; body: string; url: string }

/** A webhook receiver answering with `status()` (default 200). */
export async function startReceiver(t: Test, status: () => number = () => 200) {
  const got: Received[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      got.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        url: req.url ?? '',
      })
      const s = status()
      res.writeHead(s, s >= 300 && s < 400 ? { location: 'http://127.0.0.1:1/' } : {})
      res.end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return { uri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks`, got }
}

export const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 10))
  }
}
