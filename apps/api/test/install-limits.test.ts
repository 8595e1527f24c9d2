// Anonymous install requests cannot grow state without bound: GET /api/shopify/install is rate
// limited per address and per shop, live OAuth states are capped (429 with Retry-After past the
// cap), expired states are swept by the worker's maintenance job (not by each request), and
// expires_at is indexed for both.
import t, { type Test } from 'tap'
import { createLogger } from '@xeno/logger'
import { createInstallRepository, createInstallService } from '@xeno/core'
import type { Database } from '@xeno/db'
import { buildTestApp } from './support/app.ts'
import { sweepOAuthStatesJob } from '../../worker/src/jobs/sweep-oauth-states.job.ts'

async function setup(t: Test, o: { perIp?: number; perShop?: number; maxLiveStates?: number }) {
  let repo!: ReturnType<typeof createInstallRepository>
  const h = await buildTestApp(t, {
    deps: ({ db }: { db: Database }) => {
      repo = createInstallRepository(db)
      return {
        shopify: {
          install: createInstallService({
            repo,
            config: {
              clientId: 'limits-client',
              secrets: ['limits-secret'],
              scopes: 'read_orders',
              redirectUri: 'http://127.0.0.1:3000/api/shopify/callback',
              appUrl: 'http://127.0.0.1:3000',
              maxLiveStates: o.maxLiveStates,
            },
            exchangeCode: () => Promise.reject(new Error('no exchange here')),
            storeGrant: () => Promise.reject(new Error('unused')),
            shopClient: () => ({ request: () => Promise.reject(new Error('unused')) }),
            startSync: () => Promise.resolve(),
            logger: createLogger({ level: 'silent' }),
          }),
          oauthConfig: {
            clientId: 'limits-client',
            clientSecretSet: true,
            scopes: 'read_orders',
            redirectUri: 'http://127.0.0.1:3000/api/shopify/callback',
            appUrl: 'http://127.0.0.1:3000',
            apiVersion: '2026-10',
            adminOrigin: null,
          },
          installLimits: {
            perIp: { max: o.perIp ?? 1000, windowMs: 60_000 },
            perShop: { max: o.perShop ?? 1000, windowMs: 60_000 },
          },
        },
      }
    },
  })
  const install = (shop: string, ip = '203.0.113.1') =>
    h.app.inject({ method: 'GET', url: `/api/shopify/install?shop=${shop}`, remoteAddress: ip })
  const states = async () =>
    (await h.ownerQuery<{ n: number }>('SELECT count(*)::int AS n FROM oauth_states'))[0]!.n
  return { h, install, states, repo }
}

t.test('per address: a flood from one client is refused with 429 and Retry-After', async (t) => {
  const { install, states } = await setup(t, { perIp: 5 })
  for (let i = 0; i < 5; i++) t.equal((await install(`flood-${i}`)).statusCode, 302)
  const refused = await install('flood-5')
  t.equal(refused.statusCode, 429)
  t.ok(Number(refused.headers['retry-after']) >= 1, 'Retry-After')
  t.equal(refused.json().error.code, 'RATE_LIMITED')
  t.equal(await states(), 5, 'no state stored for the refused request')
  t.equal((await install('flood-6', '203.0.113.2')).statusCode, 302, 'another client is served')
})

t.test('per shop: many addresses cannot pile up states for one shop', async (t) => {
  const { install } = await setup(t, { perShop: 3 })
  for (let i = 0; i < 3; i++)
    t.equal((await install('target-shop', `198.51.100.${i}`)).statusCode, 302)
  const refused = await install('target-shop.myshopify.com', '198.51.100.9')
  t.equal(refused.statusCode, 429, 'the same shop, spelled in full, from a fourth address')
  t.ok(refused.headers['retry-after'])
  t.equal((await install('other-shop', '198.51.100.9')).statusCode, 302)
})

t.test('a cap on live states; the maintenance sweep frees room', async (t) => {
  const { h, install, states, repo } = await setup(t, { maxLiveStates: 4 })
  // Expired a day ago: not live, and no install request deletes it any more.
  await h.ownerQuery(
    `INSERT INTO oauth_states (state_hash, shop_domain, expires_at)
     VALUES ('\\x01', 'old.myshopify.com', now() - interval '1 day')`,
  )
  for (let i = 0; i < 4; i++)
    t.equal((await install(`cap-${i}`, `192.0.2.${i}`)).statusCode, 302, `install ${i}`)
  t.equal(await states(), 5, 'the expired state is still there: requests do not sweep')
  const full = await install('cap-4', '192.0.2.50')
  t.equal(full.statusCode, 429, 'past the cap')
  t.equal(full.headers['retry-after'], '60')
  t.equal(await states(), 5)

  // The worker's maintenance job deletes what expired (an hour's grace for late callbacks).
  const job = sweepOAuthStatesJob({
    sweep: () => repo.deleteExpiredStates(new Date(), 60 * 60_000),
  })
  const log = createLogger({ level: 'silent' })
  t.same(await job({}, { log } as never), { deleted: 1 })
  await h.ownerQuery(`UPDATE oauth_states SET expires_at = now() - interval '2 hours'`)
  t.same(await job({}, { log } as never), { deleted: 4 })
  t.equal((await install('cap-4', '192.0.2.50')).statusCode, 302, 'room again')

  const [index] = await h.ownerQuery<{ indexdef: string }>(
    `SELECT indexdef FROM pg_indexes WHERE tablename = 'oauth_states' AND indexdef LIKE '%(expires_at)%'`,
  )
  t.ok(index, 'expires_at is indexed')
})
