import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fastifyCookie from '@fastify/cookie'
import fastifyRateLimit from '@fastify/rate-limit'
import {
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
  ValidationError,
  type AdminAuthService,
  type ApiKeyService,
  type TenantService,
  type TenantUserService,
} from '@xeno/core'
import type { RedisConnection } from '@xeno/queues'
import type { Principal } from '../app.ts'
import {
  createMemoryFailureCounter,
  createRedisFailureCounter,
  DEFAULT_FAILURE_POLICY,
  type FailureCounter,
  type FailurePolicy,
} from './login-failures.ts'

/** The code of a wrong current password (403: the caller is signed in, only that is wrong). */
export const WRONG_CURRENT_PASSWORD = 'CURRENT_PASSWORD_INVALID'
type AppErrorLike = { code?: unknown }

/** Cookie of an admin session. */
export const ADMIN_COOKIE = 'xeno_admin'
/** Cookie of a tenant user's session. */
export const TENANT_COOKIE = 'xeno_session'

/** One rate limit: at most `max` attempts per `windowMs`. */
export type Limit = { max: number; windowMs: number }

/**
 * Request limits of the authentication surface per client address (and the bootstrap per
 * username). Wrong passwords are slowed per (account, address) by the failure policy instead:
 * a per-account limit would let anyone lock a user out.
 */
export type AuthLimits = {
  loginPerIp: Limit
  bootstrapPerIp: Limit
  bootstrapPerAccount: Limit
  /** HTTP Basic verifications that miss the cache (failures, and a user's first request). */
  basicPerIp: Limit
}

export const DEFAULT_AUTH_LIMITS: AuthLimits = {
  loginPerIp: { max: 30, windowMs: 60_000 },
  bootstrapPerIp: { max: 10, windowMs: 60_000 },
  bootstrapPerAccount: { max: 5, windowMs: 60_000 },
  basicPerIp: { max: 30, windowMs: 60_000 },
}

export type AuthDeps = {
  admins: AdminAuthService
  tenantUsers: TenantUserService
  apiKeys: ApiKeyService
  tenants: TenantService
  /** APP_URL: the only origin allowed to make state-changing cookie requests. */
  appUrl: string
  /** COOKIE_SECURE: false only for local plain-HTTP development. */
  cookieSecure: boolean
  limits?: Partial<AuthLimits> | undefined
  /** Wrong-password delays per (account, address) (default DEFAULT_FAILURE_POLICY). */
  failures?: Partial<FailurePolicy> | undefined
  /**
   * Where limiter state lives: Redis shared by every API replica (keys under `prefix`). Without
   * it, this process's memory (single-process tests and benchmarks only).
   */
  limiterStore?: { redis: RedisConnection; prefix: string } | undefined
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
// Session tokens are 256 random bits in base64url: anything else never reaches the database.
const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH'])

/** What routes use from the auth layer besides `request.principal`. */
export type Authenticator = ReturnType<typeof registerAuth> extends Promise<infer A> ? A : never

/**
 * Installs cookies, rate limiting and the hook that enforces each route's `config.auth`
 * (see FastifyContextConfig in app.ts) and sets `request.principal`:
 * - 'public': nobody is resolved (routes may call `optionalSession`).
 * - 'admin': an admin session cookie.
 * - 'tenant': the tenant is the route's `:id` (a non-UUID is a 400 on params.id). Accepted: an
 *   admin session (the tenant must exist), a tenant session or HTTP Basic of a user of THAT
 *   tenant (Basic's username is looked up in the `:id` tenant), or an X-API-Key of that tenant.
 *   A credential of another tenant answers 404, never 403. Routes without `:id`
 *   (/api/tenant/...) take the tenant from a session or API key; Basic needs `:id`.
 *   `config.role: 'owner'` admits owners and admins only (API keys act as viewers).
 * - 'api-key': X-API-Key only.
 * - 'shopify-webhook', 'shopify-oauth': pass through; those routes verify Shopify's HMAC.
 * State-changing requests authenticated by a cookie must be JSON and same-origin (CSRF).
 * A route without `config.auth` answers 401 (and fails the route-table test).
 */
export async function registerAuth(app: FastifyInstance, deps: AuthDeps) {
  const limits = { ...DEFAULT_AUTH_LIMITS, ...deps.limits }
  const appOrigin = new URL(deps.appUrl).origin

  await app.register(fastifyCookie)
  const store = deps.limiterStore
  // Redis unreachable: the limits fail open (logged) rather than failing every login with a
  // 500; argon2's cost still bounds guessing meanwhile.
  await app.register(fastifyRateLimit, {
    global: false,
    ...(store
      ? { redis: store.redis, nameSpace: `${store.prefix}:limits:rl:`, skipOnError: true }
      : {}),
  })
  const policy = { ...DEFAULT_FAILURE_POLICY, ...deps.failures }
  const failures: FailureCounter = store
    ? createRedisFailureCounter(store.redis, store.prefix, policy)
    : createMemoryFailureCounter(policy)
  const failOpen = async <T>(what: string, fn: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await fn()
    } catch (err) {
      app.log.warn({ err: { message: (err as Error).message } }, `limiter store: ${what} failed`)
      return fallback
    }
  }
  /** Throws 429 while this (account, address) pair waits out its failures' delay. */
  const checkFailures = async (request: FastifyRequest, scope: string, account: string) => {
    const ms = await failOpen('read', () => failures.blockedFor(scope, account, request.ip), 0)
    if (ms > 0)
      throw new RateLimitedError(Math.ceil(ms / 1000), 'too many failed attempts; retry later')
  }
  const recordFailure = (request: FastifyRequest, scope: string, account: string) =>
    failOpen('count', () => failures.fail(scope, account, request.ip), 0)
  const clearFailures = (request: FastifyRequest, scope: string, account: string) =>
    failOpen('reset', () => failures.reset(scope, account, request.ip), undefined)
  /**
   * Runs a password check for `account` from this address: refused (429) while the pair is
   * delayed; a wrong password (UnauthorizedError) counts, a right one clears the count.
   */
  const guardPassword = async <T>(
    request: FastifyRequest,
    scope: string,
    account: string,
    attempt: () => Promise<T>,
  ): Promise<T> => {
    await checkFailures(request, scope, account)
    try {
      const result = await attempt()
      await clearFailures(request, scope, account)
      return result
    } catch (err) {
      if (err instanceof UnauthorizedError || (err as AppErrorLike).code === WRONG_CURRENT_PASSWORD)
        await recordFailure(request, scope, account)
      throw err
    }
  }

  // The account a limiter counts is carried per request (createRateLimit keys by request only).
  const accountOf = new WeakMap<FastifyRequest, string>()
  const limiter = (name: string, limit: Limit, by: 'ip' | 'account') => {
    const check = app.createRateLimit({
      max: limit.max,
      timeWindow: limit.windowMs,
      keyGenerator: (req) =>
        by === 'ip' ? `${name}:ip:${req.ip}` : `${name}:acct:${accountOf.get(req) ?? ''}`,
    })
    return async (request: FastifyRequest, account?: string) => {
      if (account !== undefined) accountOf.set(request, account)
      const r = await check(request)
      if (!r.isAllowed && r.isExceeded) throw new RateLimitedError(Math.max(1, r.ttlInSeconds))
    }
  }
  const loginIp = limiter('login', limits.loginPerIp, 'ip')
  const bootstrapIp = limiter('bootstrap', limits.bootstrapPerIp, 'ip')
  const bootstrapAccount = limiter('bootstrap', limits.bootstrapPerAccount, 'account')
  const basicIp = limiter('basic', limits.basicPerIp, 'ip')

  const checkCsrf = (request: FastifyRequest) => {
    if (SAFE_METHODS.has(request.method)) return
    if (BODY_METHODS.has(request.method)) {
      const ct = request.headers['content-type'] ?? ''
      if (!/^application\/json\s*(;|$)/i.test(ct))
        throw new ForbiddenError('state-changing requests must send a JSON body', 'CSRF_REJECTED')
    }
    const site = request.headers['sec-fetch-site']
    if (site !== undefined) {
      if (site !== 'same-origin') throw new ForbiddenError('cross-site request', 'CSRF_REJECTED')
      return
    }
    if (request.headers.origin !== appOrigin)
      throw new ForbiddenError('cross-origin or origin-less request', 'CSRF_REJECTED')
  }

  const cookie = (request: FastifyRequest, name: string): string | undefined => {
    const v = request.cookies[name]
    return v !== undefined && TOKEN_RE.test(v) ? v : undefined
  }

  /** Resolves a session cookie (admin first) without failing; for 'public' routes. */
  const optionalSession = async (request: FastifyRequest): Promise<Principal | undefined> => {
    const adminToken = cookie(request, ADMIN_COOKIE)
    if (adminToken) {
      const a = await deps.admins.authenticate(adminToken)
      if (a) return { kind: 'admin', adminId: a.adminId }
    }
    const tenantToken = cookie(request, TENANT_COOKIE)
    if (tenantToken) {
      const u = await deps.tenantUsers.authenticateSession(tenantToken)
      if (u) return { kind: 'tenant-user', tenantId: u.tenantId, userId: u.userId, role: u.role }
    }
    return undefined
  }

  const basicCredentials = (header: string): { username: string; password: string } => {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon <= 0) throw new UnauthorizedError('malformed Basic credentials')
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
  }

  const tenantPrincipal = async (
    request: FastifyRequest,
    tenantId: string | undefined,
  ): Promise<Principal> => {
    const authorization = request.headers.authorization
    if (authorization !== undefined && /^basic /i.test(authorization)) {
      if (!tenantId)
        throw new UnauthorizedError('HTTP Basic needs the tenant in the path; use a session')
      const { username, password } = basicCredentials(authorization)
      const account = `${tenantId}:${username}`
      // Only a cache miss is a password check (and counts); a cached success costs nothing.
      let checked = false
      const user = await deps.tenantUsers.verifyBasic(tenantId, username, password, async () => {
        checked = true
        await basicIp(request)
        await checkFailures(request, 'basic', account)
      })
      if (!user) {
        if (checked) await recordFailure(request, 'basic', account)
        throw new UnauthorizedError('invalid credentials', 'INVALID_CREDENTIALS')
      }
      if (checked) await clearFailures(request, 'basic', account)
      return { kind: 'tenant-user', ...user }
    }
    const apiKey = request.headers['x-api-key']
    if (typeof apiKey === 'string') {
      const key = await deps.apiKeys.authenticate(apiKey)
      if (!key) throw new UnauthorizedError('invalid API key', 'INVALID_CREDENTIALS')
      return { kind: 'api-key', tenantId: key.tenantId, keyId: key.keyId }
    }
    const principal = await optionalSession(request)
    if (!principal) throw new UnauthorizedError()
    checkCsrf(request)
    return principal
  }

  app.addHook('onRequest', async (request) => {
    if (request.is404) return
    const config = request.routeOptions.config
    switch (config.auth) {
      case undefined:
        // Fail closed; the route-table test (apps/api/test/routes.test.ts) names the route.
        request.log.error({ route: request.routeOptions.url }, 'route declares no config.auth')
        throw new UnauthorizedError()
      case 'public':
      case 'shopify-webhook':
      case 'shopify-oauth':
        return
      case 'admin': {
        const token = cookie(request, ADMIN_COOKIE)
        const admin = token ? await deps.admins.authenticate(token) : null
        if (!admin) throw new UnauthorizedError('admin session required')
        checkCsrf(request)
        request.principal = { kind: 'admin', adminId: admin.adminId }
        return
      }
      case 'api-key': {
        const apiKey = request.headers['x-api-key']
        const key = typeof apiKey === 'string' ? await deps.apiKeys.authenticate(apiKey) : null
        if (!key) throw new UnauthorizedError('a valid X-API-Key is required')
        request.principal = { kind: 'api-key', tenantId: key.tenantId, keyId: key.keyId }
        return
      }
      case 'tenant': {
        let tenantId: string | undefined
        if (request.routeOptions.url?.includes('/:id')) {
          const id = (request.params as Record<string, string | undefined>).id ?? ''
          if (!UUID.test(id))
            throw new ValidationError('invalid params.id', [
              { field: 'params.id', message: 'must be a UUID' },
            ])
          tenantId = id.toLowerCase()
        }
        const principal = await tenantPrincipal(request, tenantId)
        if (principal.kind === 'admin') {
          if (tenantId && !(await deps.tenants.exists(tenantId)))
            throw new NotFoundError('tenant not found')
        } else if (tenantId && principal.tenantId !== tenantId) {
          throw new NotFoundError('tenant not found')
        }
        if (
          config.role === 'owner' &&
          principal.kind !== 'admin' &&
          !(principal.kind === 'tenant-user' && principal.role === 'owner')
        )
          throw new ForbiddenError('the owner role is required', 'OWNER_REQUIRED')
        request.principal = principal
        return
      }
    }
  })

  const setSessionCookie = (reply: FastifyReply, name: string, token: string, expires: Date) => {
    void reply.setCookie(name, token, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: deps.cookieSecure,
      expires,
    })
  }
  const clearSessionCookie = (reply: FastifyReply, name: string) => {
    void reply.clearCookie(name, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: deps.cookieSecure,
    })
  }

  return {
    optionalSession,
    setSessionCookie,
    clearSessionCookie,
    /** The valid-looking session token a request carries in a cookie, if any. */
    sessionToken: cookie,
    /**
     * A login attempt: limited per client IP, then `attempt` (the password check) runs under
     * the (account, address) failure delays (throws RateLimitedError).
     */
    async guardLogin<T>(request: FastifyRequest, account: string, attempt: () => Promise<T>) {
      await loginIp(request)
      return guardPassword(request, 'login', account, attempt)
    },
    /** A re-entered password (e.g. the current one, to change it), under the same delays. */
    guardPassword: <T>(request: FastifyRequest, account: string, attempt: () => Promise<T>) =>
      guardPassword(request, 'reauth', account, attempt),
    /** Bootstrap attempts: per client IP, then per username. */
    async limitBootstrap(request: FastifyRequest, account: string) {
      await bootstrapIp(request)
      await bootstrapAccount(request, account)
    },
  }
}

/**
 * Used when the app is built without identity services (bare test apps): every route that is
 * not public answers 401.
 */
export function registerAuthFailClosed(app: FastifyInstance): undefined {
  app.addHook('onRequest', (request, _reply, done) => {
    const auth = request.routeOptions.config.auth
    if (
      request.is404 ||
      auth === 'public' ||
      auth === 'shopify-webhook' ||
      auth === 'shopify-oauth'
    )
      return done()
    done(new UnauthorizedError())
  })
  return undefined
}
