// HTTP Basic vs session cookie on the same tenant-scoped GET routes, over real HTTP, in one run.
// Target (issue 4): Basic reaches ≥ 50% of session throughput, thanks to the verified-credentials
// cache (without it every Basic request would cost an argon2id hash of 19 MiB).
//
//   pnpm exec node bench/auth-basic-vs-session.bench.ts [--rounds 5] [--seconds 3] [--concurrency 16]
//
// The API listens on loopback in this process; the load runs in a worker thread (its own event
// loop) with keep-alive connections at a fixed concurrency. Rounds alternate the order of the
// two modes; the ratio is of the medians. Prints JSON.
// Relative imports: the root package does not depend on workspace packages.
import os from 'node:os'
import { parseArgs } from 'node:util'
import { createDb, pingDb } from '../packages/db/src/index.ts'
import { createTestDatabase } from '../packages/db/src/testing.ts'
import { createLogger } from '../packages/logger/src/index.ts'
import {
  createAdminAuthService,
  createAnalyticsService,
  createApiKeyService,
  createHealthService,
  createPasswordHasher,
  createShopTokenChecker,
  createTenantService,
  createTenantUserService,
  createTokenCipher,
} from '../packages/core/src/index.ts'
import { buildApp } from '../apps/api/src/app.ts'
import { median, runLoad } from './support/load.ts'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
  },
})
const ROUNDS = Number(values.rounds)
const DURATION_MS = Number(values.seconds) * 1000
const CONCURRENCY = Number(values.concurrency)

const load = (url: string, headers: Record<string, string>) =>
  runLoad({ url, headers, concurrency: CONCURRENCY, durationMs: DURATION_MS })

const tdb = await createTestDatabase()
const owner = createDb({ url: tdb.ownerUrl, applicationName: 'bench-owner', poolMax: 1 })
const db = tdb.db
const hasher = createPasswordHasher()
const services = {
  admins: createAdminAuthService({ db, hasher }),
  tenantUsers: createTenantUserService({ db, hasher }),
  apiKeys: createApiKeyService({ db, pepper: 'bench-pepper-bench-pepper-bench-pepper-00' }),
  tenants: createTenantService({
    db,
    cipher: createTokenCipher({ current: Buffer.alloc(32, 7) }),
    checkShopToken: createShopTokenChecker({ apiVersion: '2026-10' }),
  }),
}
const app = await buildApp({
  logger: createLogger({ level: 'silent' }),
  health: createHealthService({ pingDb: () => pingDb(db), pingRedis: async () => true }),
  analytics: createAnalyticsService({ db }),
  auth: { ...services, appUrl: 'http://127.0.0.1', cookieSecure: false },
})
await app.listen({ port: 0, host: '127.0.0.1' })
const address = app.server.address()
const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`

const tenant = await services.tenants.create({ shopDomain: 'bench-auth' })
const password = 'bench-password-123'
await services.tenantUsers.create(tenant.id, { username: 'bench', password, role: 'viewer' })
// A modest order history so the analytics route does real (indexed) work.
await owner.pool.query(
  `INSERT INTO orders (tenant_id, id, name, currency, total_price, processed_at, created_at, updated_at)
   SELECT $1, g, '#' || g, 'USD', (g % 500) + 9.99, t, t, t
   FROM generate_series(1, 2000) g, LATERAL (SELECT '2026-01-01'::timestamptz + g * interval '1 hour' AS t) x`,
  [tenant.id],
)
const login = await fetch(`${base}/api/tenant/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ shop: 'bench-auth', username: 'bench', password }),
})
const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]!
const modes = {
  basic: { authorization: `Basic ${Buffer.from(`bench:${password}`).toString('base64')}` },
  session: { cookie },
}
const routes = {
  analytics: `${base}/api/tenants/${tenant.id}/metrics/orders?from=2026-01-01&to=2026-03-31`,
  tenant: `${base}/api/tenants/${tenant.id}`,
}

const results: Record<string, unknown> = {}
const ratios: Record<string, number> = {}
for (const [routeName, url] of Object.entries(routes)) {
  for (const headers of Object.values(modes)) {
    const r = await fetch(url, { headers }) // warm-up (Basic: the one argon2 verification)
    if (r.status !== 200) throw new Error(`${routeName} answered ${r.status}: ${await r.text()}`)
  }
  // One unmeasured round per mode: JIT, pools and the plan cache warm up for both alike.
  for (const headers of Object.values(modes)) await load(url, headers)
  const rps: Record<'basic' | 'session', number[]> = { basic: [], session: [] }
  const failed: Record<string, Record<string, number>> = { basic: {}, session: {} }
  for (let round = 0; round < ROUNDS; round++) {
    const order: ('basic' | 'session')[] = round % 2 ? ['session', 'basic'] : ['basic', 'session']
    for (const mode of order) {
      const r = await load(url, modes[mode])
      for (const [status, n] of Object.entries(r.statuses))
        if (status !== '200') failed[mode]![status] = (failed[mode]![status] ?? 0) + n
      rps[mode].push(Math.round(r.rps))
    }
  }
  const ratio = median(rps.basic) / median(rps.session)
  ratios[routeName] = Number(ratio.toFixed(3))
  results[routeName] = {
    path: new URL(url).pathname.replace(tenant.id, ':id'),
    basic_rps: rps.basic,
    session_rps: rps.session,
    basic_median_rps: median(rps.basic),
    session_median_rps: median(rps.session),
    ratio: Number(ratio.toFixed(3)),
    non_200_by_status: failed,
  }
}

console.log(
  JSON.stringify(
    {
      benchmark: 'auth-basic-vs-session',
      target: 'basic >= 0.5 x session throughput',
      ratio: ratios.analytics,
      ratios,
      met: Object.values(ratios).every((r) => r >= 0.5),
      results,
      conditions: {
        rounds: ROUNDS,
        seconds_per_round: DURATION_MS / 1000,
        concurrency: CONCURRENCY,
        http: 'loopback, keep-alive, load in a worker thread of the same process',
        cpus: os.cpus().length,
        loadavg_1m: Number(os.loadavg()[0]!.toFixed(2)),
        node: process.version,
      },
    },
    null,
    2,
  ),
)
await app.close()
await owner.db.destroy()
await tdb.close()
