// A fully wired API on a fresh test database, plus helpers that create an admin, tenants, users
// and API keys and hand back ready-to-send credentials. Use it for any route test:
//
//   const h = await buildTestApp(t)
//   const admin = await h.admin()                       // admin session (cookie + same origin)
//   const tenant = await h.tenant('acme')               // a pending tenant acme.myshopify.com
//   const owner = await h.user(tenant.id, { role: 'owner' })
//   await h.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: owner.basic })
//
// Every credential is a plain headers object to spread into `inject` (or fetch) headers:
// `admin.headers`, `user.basic`, `await h.session(user)`, `(await h.apiKey(tenant.id)).headers`.
// Pass your own services with `deps` (merged into buildApp's dependencies).
import { randomBytes } from 'node:crypto'
import type { Test } from 'tap'
import type { RouteOptions } from 'fastify'
import { createDb, pingDb, type Database } from '@xeno/db'
import { createTestDatabase, type TestDatabase } from '@xeno/db/testing'
import { createLogger } from '@xeno/logger'
import {
  createAdminAuthService,
  createApiKeyService,
  createBasicAuthCache,
  createHealthService,
  createPasswordHasher,
  createShopTokenChecker,
  createTenantService,
  createTenantUserService,
  createTokenCipher,
  type CheckShopToken,
  type PasswordHasher,
  type SessionPolicy,
  type TenantRole,
} from '@xeno/core'
import { createIngestService, createSyncScheduler } from '@xeno/core'
import { createProducer, createRedis, type Producer } from '@xeno/queues'
import { dropQueueKeys, testQueuePrefix, testRedisUrl } from '@xeno/queues/testing'
import { fileURLToPath } from 'node:url'
import { buildApp, type App, type AppDeps } from '../../src/app.ts'
import { ADMIN_COOKIE, TENANT_COOKIE, type AuthLimits } from '../../src/plugins/auth.ts'
import type { FailurePolicy } from '../../src/plugins/login-failures.ts'

/** apps/web/dist: the built dashboard the test apps serve under /app/. */
export const WEB_DIST = fileURLToPath(new URL('../../../web/dist', import.meta.url))

/** The APP_URL test apps run with; same-origin browser requests carry it as Origin. */
export const APP_URL = 'http://127.0.0.1:3000'
/** Headers a same-origin browser adds to a state-changing request (CSRF check). */
export const SAME_ORIGIN = { origin: APP_URL }

// Far above anything a functional test does; rate-limit tests pass their own.
const GENEROUS: AuthLimits = {
  loginPerIp: { max: 10_000, windowMs: 60_000 },
  bootstrapPerIp: { max: 10_000, windowMs: 60_000 },
  bootstrapPerAccount: { max: 10_000, windowMs: 60_000 },
  basicPerIp: { max: 10_000, windowMs: 60_000 },
}

export type TestAppOptions = {
  /** Rate limits (default: generous). */
  limits?: Partial<AuthLimits>
  /** Wrong-password delays per (account, address) (default: generous). */
  failures?: Partial<FailurePolicy>
  /** Clock of sessions and API-key bookkeeping (default: real time). */
  now?: () => Date
  sessionPolicy?: SessionPolicy
  bootstrapToken?: string
  cookieSecure?: boolean
  /** Where Admin API calls go (the fake Shopify's origin); default: nothing listens. */
  shopifyAdminOrigin?: string
  checkShopToken?: CheckShopToken
  hasher?: PasswordHasher
  /**
   * Extra or replacement dependencies for buildApp (other features' services); a function gets
   * the test database (runtime role) and the app's BullMQ producer to build them on.
   */
  deps?:
    | Partial<AppDeps>
    | ((ctx: { db: Database; producer: Producer; appUrl: string }) => Partial<AppDeps>)
  /** BullMQ prefix of the ingest producer (default: a fresh test prefix). */
  queuePrefix?: string
  /** The app pool's size and checkout wait (default: 5 connections, pg's 5 s wait). */
  pool?: { max?: number; acquireTimeoutMs?: number }
}

export type TestUser = {
  id: string
  tenantId: string
  username: string
  password: string
  role: TenantRole
  /** `authorization: Basic …` for routes under /api/tenants/:id. */
  basic: Record<string, string>
}

export type TestApp = Awaited<ReturnType<typeof buildTestApp>>

/** Cookie value a response set, or undefined. */
export function cookieFrom(res: { cookies: { name: string; value: string }[] }, name: string) {
  return res.cookies.find((c) => c.name === name)?.value
}

/** Builds the wired app on its own database; everything is closed when the test ends. */
export async function buildTestApp(t: Test, options: TestAppOptions = {}) {
  const tdb: TestDatabase = await createTestDatabase(options.pool)
  t.teardown(tdb.close)
  const db: Database = tdb.db
  const hasher = options.hasher ?? createPasswordHasher()
  const pepper = randomBytes(32).toString('hex')
  const cipher = createTokenCipher({ current: randomBytes(32) })
  const basicCache = createBasicAuthCache()
  const common = { db, now: options.now }
  const services = {
    admins: createAdminAuthService({
      ...common,
      hasher,
      bootstrapToken: options.bootstrapToken,
      sessionPolicy: options.sessionPolicy,
    }),
    tenantUsers: createTenantUserService({
      ...common,
      hasher,
      basicCache,
      sessionPolicy: options.sessionPolicy,
    }),
    apiKeys: createApiKeyService({ ...common, pepper }),
    tenants: createTenantService({
      ...common,
      cipher,
      checkShopToken:
        options.checkShopToken ??
        createShopTokenChecker({
          apiVersion: '2026-10',
          adminOrigin: options.shopifyAdminOrigin ?? 'http://127.0.0.1:1',
          timeoutMs: 5_000,
        }),
    }),
  }
  // Ingestion (issue 5): the trigger enqueues on Redis under a per-test prefix.
  const queuePrefix = options.queuePrefix ?? testQueuePrefix()
  const queueRedis = createRedis(testRedisUrl(), 'producer', () => {})
  if (queueRedis.status !== 'ready') await new Promise((r) => queueRedis.once('ready', r))
  const producer = createProducer({ connection: queueRedis, prefix: queuePrefix })
  t.teardown(async () => {
    await producer.close()
    // A prefix passed in is shared with the test's own workers: theirs to clean up.
    if (!options.queuePrefix) await dropQueueKeys(queueRedis, queuePrefix)
    queueRedis.disconnect()
  })
  const routes: RouteOptions[] = []
  const app: App = await buildApp({
    ingest: createIngestService({ db, scheduler: createSyncScheduler({ producer }) }),
    onRoute: (route) => routes.push(route),
    // Bull Board (/admin/queues) over this app's queues, so route-table suites see its routes.
    bullBoard: { queues: producer.allQueues() },
    // The dashboard under /app/ (built or not: its routes exist either way).
    web: { root: WEB_DIST },
    logger: createLogger({ level: 'silent' }),
    health: createHealthService({ pingDb: () => pingDb(db), pingRedis: async () => true }),
    auth: {
      ...services,
      appUrl: APP_URL,
      cookieSecure: options.cookieSecure ?? true,
      limits: { ...GENEROUS, ...options.limits },
      failures: { free: 10_000, ...options.failures },
      // Limiter state in Redis, under this app's prefix (dropped with its queues).
      limiterStore: { redis: queueRedis, prefix: queuePrefix },
    },
    ...(typeof options.deps === 'function'
      ? options.deps({ db, producer, appUrl: tdb.appUrl })
      : options.deps),
  })
  t.teardown(() => app.close())

  let owner: ReturnType<typeof createDb> | undefined
  /** Raw SQL as the table owner (sees every tenant, bypasses RLS): seeding and assertions. */
  const ownerQuery = async <T extends Record<string, any> = Record<string, any>>(
    text: string,
    params: unknown[] = [],
  ): Promise<T[]> => {
    if (!owner) {
      owner = createDb({ url: tdb.ownerUrl, applicationName: 'xeno-test-owner', poolMax: 2 })
      const o = owner
      t.teardown(() => o.db.destroy())
    }
    return (await owner.pool.query(text, params)).rows as T[]
  }

  let seq = 0
  const unique = (p: string) => `${p}${++seq}${randomBytes(3).toString('hex')}`

  /** Logs a user in over HTTP and returns the session cookie (plus Origin) as headers. */
  const session = async (user: {
    tenantId: string
    username: string
    password: string
  }): Promise<Record<string, string>> => {
    const tenant = await services.tenants.get(user.tenantId)
    const res = await app.inject({
      method: 'POST',
      url: '/api/tenant/login',
      payload: { shop: tenant.shopDomain, username: user.username, password: user.password },
    })
    if (res.statusCode !== 200) throw new Error(`tenant login failed: ${res.body}`)
    return { cookie: `${TENANT_COOKIE}=${cookieFrom(res, TENANT_COOKIE)}`, ...SAME_ORIGIN }
  }

  return {
    app,
    db,
    /** The worker's cross-tenant role on the same database (sweepers, schedulers). */
    systemDb: tdb.systemDb,
    /** Every route the app registered (collected with onRoute), HEAD twins included. */
    routes,
    /** The ingest producer and its BullMQ prefix (queues of this test app). */
    producer,
    queuePrefix,
    /** Owner connection URL of the test database (superuser: sees every tenant). */
    ownerUrl: tdb.ownerUrl,
    ownerQuery,
    services,
    cipher,
    pepper,
    basicCache,

    /** A new admin, logged in: `headers` carry its session cookie and a same-origin Origin. */
    async admin(username = unique('admin'), password = 'admin-password-1') {
      const created = await services.admins.createAdmin(username, password)
      const res = await app.inject({
        method: 'POST',
        url: '/api/admin/login',
        payload: { username, password },
      })
      if (res.statusCode !== 200) throw new Error(`admin login failed: ${res.body}`)
      return {
        id: created.id,
        username,
        password,
        headers: { cookie: `${ADMIN_COOKIE}=${cookieFrom(res, ADMIN_COOKIE)}`, ...SAME_ORIGIN },
      }
    },

    /** A new pending tenant (shop defaults to a unique store name). */
    async tenant(shop = unique('shop')) {
      return services.tenants.create({ shopDomain: shop })
    },

    /** A new user of the tenant (default role viewer). */
    async user(
      tenantId: string,
      u: { username?: string; password?: string; role?: TenantRole } = {},
    ): Promise<TestUser> {
      const username = u.username ?? unique('user')
      const password = u.password ?? 'user-password-1'
      const role = u.role ?? 'viewer'
      const row = await services.tenantUsers.create(tenantId, { username, password, role })
      return {
        id: row.id,
        tenantId,
        username,
        password,
        role,
        basic: {
          authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`,
        },
      }
    },

    session,

    /** A new API key of the tenant; `headers` carry `x-api-key`. */
    async apiKey(tenantId: string, label = 'test') {
      const k = await services.apiKeys.create(tenantId, label)
      return { id: k.id, key: k.key, headers: { 'x-api-key': k.key } }
    },
  }
}
