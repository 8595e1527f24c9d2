import t from 'tap'
import { startFake } from './support/fake.ts'

t.test(
  'token endpoint: form bodies, expiring tokens, refresh rotation, expiry → 401',
  async (t) => {
    const { fake, shop } = await startFake(t)
    const h = { 'x-fake-shop': shop.domain }
    const authorize = await fetch(
      `${fake.origin}/admin/oauth/authorize?client_id=fake-client-id&scope=read_orders&redirect_uri=${encodeURIComponent('https://app.example.com/cb')}&state=abc`,
      { headers: h, redirect: 'manual' },
    )
    const code = new URL(authorize.headers.get('location')!).searchParams.get('code')!
    const form = new URLSearchParams({
      client_id: 'fake-client-id',
      client_secret: 'fake-client-secret',
      code,
      expiring: '1',
    })
    const r = await fetch(`${fake.origin}/admin/oauth/access_token`, {
      method: 'POST',
      headers: { ...h, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    })
    const tok = (await r.json()) as any
    t.match(tok, { scope: 'read_orders', expires_in: 3600, refresh_token_expires_in: 7776000 })
    t.match(tok.access_token, /^shpat_/)
    t.match(tok.refresh_token, /^shprt_/)
    const reused = await fetch(`${fake.origin}/admin/oauth/access_token`, {
      method: 'POST',
      headers: { ...h, 'content-type': 'application/x-www-form-urlencoded' },
      body: form,
    })
    t.equal(reused.status, 400, 'a code is single use')
    const gql = (token: string) =>
      fetch(`${fake.origin}/admin/api/2026-10/graphql.json`, {
        method: 'POST',
        headers: { ...h, 'content-type': 'application/json', 'x-shopify-access-token': token },
        body: '{"query":"{ shop { name } }"}',
      }).then((x) => x.status)
    t.equal(await gql(tok.access_token), 200)
    fake.clock.advance(3600_000)
    t.equal(await gql(tok.access_token), 401, 'expired after an hour')
    const refresh = (rt: string) =>
      fetch(`${fake.origin}/admin/oauth/access_token`, {
        method: 'POST',
        headers: { ...h, 'content-type': 'application/json' },
        body: JSON.stringify({
          client_id: 'fake-client-id',
          client_secret: 'fake-client-secret',
          grant_type: 'refresh_token',
          refresh_token: rt,
        }),
      })
    const r1 = await refresh(tok.refresh_token)
    const t1 = (await r1.json()) as any
    t.equal(r1.status, 200)
    t.not(t1.refresh_token, tok.refresh_token, 'refresh token rotates')
    t.equal(await gql(t1.access_token), 200)
    const t2 = (await (await refresh(t1.refresh_token)).json()) as any
    t.ok(t2.access_token)
    t.equal(
      (await refresh(tok.refresh_token)).status,
      400,
      'the old refresh token dies once its replacement is used',
    )
    fake.clock.advance(91 * 86_400_000)
    t.equal((await refresh(t2.refresh_token)).status, 400, 'refresh tokens live 90 days')
    const wrong = await fetch(`${fake.origin}/admin/oauth/access_token`, {
      method: 'POST',
      headers: { ...h, 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: 'fake-client-id', client_secret: 'nope', code: 'x' }),
    })
    t.equal(wrong.status, 401)
    const plain = fake.issueToken(shop.domain)
    t.same(
      Object.keys(plain).sort(),
      ['accessToken', 'scope'],
      'non-expiring offline tokens have no refresh token',
    )
  },
)
