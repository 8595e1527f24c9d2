import t from 'tap'
import { startFake } from './support/fake.ts'

t.test(
  'faults: one-shot 429 with Retry-After, 5xx, INTERNAL_SERVER_ERROR at 200, malformed, dropped',
  async (t) => {
    const { fake, shop } = await startFake(t)
    const call = () =>
      fetch(`${fake.origin}/admin/api/2026-10/graphql.json`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-shopify-access-token': shop.accessToken,
          'x-fake-shop': shop.domain,
        },
        body: '{"query":"{ shop { name } }"}',
      })
    const put = (faults: unknown[]) =>
      fetch(`${fake.origin}/_fake/shops/${shop.domain}/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ faults }),
      })
    await put([{ kind: 'http429', count: 1, retryAfter: '2.0' }])
    const a = await call()
    t.equal(a.status, 429)
    t.equal(a.headers.get('retry-after'), '2.0')
    t.equal((await call()).status, 200, 'one-shot')
    await put([{ kind: 'http5xx', status: 503, count: 1 }])
    t.equal((await call()).status, 503)
    await put([{ kind: 'graphqlInternal', count: 1 }])
    const ise = await call()
    t.equal(ise.status, 200)
    t.equal(((await ise.json()) as any).errors[0].extensions.code, 'INTERNAL_SERVER_ERROR')
    await put([{ kind: 'malformed', count: 1 }])
    await t.rejects((await call()).json())
    await put([{ kind: 'drop', count: 1 }])
    await t.rejects(call())
    await put([{ kind: 'latency', latencyMs: 150, count: 1 }])
    const t0 = Date.now()
    t.equal((await call()).status, 200)
    t.ok(Date.now() - t0 >= 140)
    await put([{ kind: 'http5xx', rate: 0 }])
    t.equal((await call()).status, 200, 'rate 0 never fires')
  },
)
