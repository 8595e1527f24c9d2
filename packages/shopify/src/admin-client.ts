import '@shopify/shopify-api/adapters/node'
import {
  GraphqlQueryError,
  HttpRequestError,
  HttpResponseError,
  HttpThrottlingError,
  LogSeverity,
  Session,
  shopifyApi,
  type ApiVersion,
} from '@shopify/shopify-api'
import { setAbstractFetchFunc } from '@shopify/shopify-api/runtime'
import { ADMIN_API_VERSION } from './documents.ts'
import {
  ShopifyAuthError,
  ShopifyError,
  ShopifyQueryError,
  ShopifyShopUnavailableError,
  ShopifyTransientError,
} from './errors.ts'
import { createThrottleBudget, type ThrottleBudget, type ThrottleStatus } from './throttle.ts'

export type ShopifyAdminOptions = {
  clientId: string
  clientSecret: string
  apiVersion?: string
  /**
   * Sends every `*.myshopify.com` call to this origin instead (the fake store), carrying the shop
   * in `x-fake-shop` (FACTS §6.4 approach A). Shop domains stay `*.myshopify.com`.
   */
  adminOrigin?: string
  /** Per-request limit; a hung connection becomes a retryable timeout. */
  requestTimeoutMs?: number
  /** The client's own retries for 429/5xx/timeouts/dropped connections (default 8). */
  maxAttempts?: number
  /** Backoff base and cap for those retries. */
  backoffBaseMs?: number
  backoffMaxMs?: number
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch
  onRetry?: (info: { shop: string; attempt: number; delayMs: number; reason: string }) => void
}

export type TokenGrant = {
  accessToken: string
  scope: string
  expiresAt: Date | null
  refreshToken: string | null
  refreshExpiresAt: Date | null
}

export type RequestStats = { throttledMs: number; throttledCount: number; requests: number }

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason as Error)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })

/** Full jitter: a random delay in [base·2^n / 2, base·2^n], capped. */
export function backoffMs(attempt: number, base: number, max: number): number {
  const exp = Math.min(max, base * 2 ** attempt)
  return Math.round(exp / 2 + (Math.random() * exp) / 2)
}

/**
 * The Shopify Admin API for one app: per-shop clients with a shared per-shop throttle budget,
 * and the token endpoint. Built by a composition root; `adminOrigin` is a dependency, never read
 * from the environment here.
 */
export function createShopifyAdmin(opts: ShopifyAdminOptions) {
  const apiVersion = opts.apiVersion ?? ADMIN_API_VERSION
  const realFetch = opts.fetch ?? globalThis.fetch
  const timeoutMs = opts.requestTimeoutMs ?? 30_000
  const origin = opts.adminOrigin?.replace(/\/+$/, '')
  // The library's fetch is process-wide; every admin instance installs the same behaviour.
  setAbstractFetchFunc(async (input, init) => {
    const u = new URL(
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
    )
    const signal = init?.signal
      ? AbortSignal.any([init.signal, AbortSignal.timeout(timeoutMs)])
      : AbortSignal.timeout(timeoutMs)
    if (origin && u.hostname.endsWith('.myshopify.com')) {
      const h = new Headers(init?.headers)
      h.set('x-fake-shop', u.host)
      return realFetch(`${origin}${u.pathname}${u.search}`, { ...init, headers: h, signal })
    }
    return realFetch(u, { ...init, signal })
  })
  const shopify = shopifyApi({
    apiKey: opts.clientId,
    apiSecretKey: opts.clientSecret,
    scopes: ['read_orders', 'read_all_orders', 'read_customers', 'read_products'],
    hostName: 'xeno.invalid',
    hostScheme: 'https',
    apiVersion: apiVersion as ApiVersion,
    isEmbeddedApp: false,
    logger: { level: LogSeverity.Error, log: async () => {} },
  })
  const budgets = new Map<string, ThrottleBudget>()
  const budget = (shop: string): ThrottleBudget => {
    let b = budgets.get(shop)
    if (!b) budgets.set(shop, (b = createThrottleBudget()))
    return b
  }
  const maxAttempts = opts.maxAttempts ?? 8
  const base = opts.backoffBaseMs ?? 500
  const cap = opts.backoffMaxMs ?? 30_000

  /** A client for one shop and access token. */
  function forShop(shop: string, accessToken: string) {
    const session = new Session({
      id: `offline_${shop}`,
      shop,
      state: '',
      isOnline: false,
      accessToken,
    })
    const client = new shopify.clients.Graphql({ session, apiVersion: apiVersion as ApiVersion })
    const b = budget(shop)
    // The last requested cost per document, so the first page pays for discovery only.
    const expected = new Map<string, number>()
    const stats: RequestStats = { throttledMs: 0, throttledCount: 0, requests: 0 }

    async function request<T>(
      query: string,
      variables: Record<string, unknown> = {},
      signal?: AbortSignal,
    ): Promise<T> {
      const key = `${query}|${JSON.stringify(variables.first ?? null)}`
      let attempt = 0
      let throttles = 0
      for (;;) {
        const cost = expected.get(key) ?? 0
        const wait = b.waitMs(cost)
        if (wait > 0) {
          stats.throttledMs += wait
          b.addWaited(wait)
          await sleep(wait, signal)
        }
        const release = b.reserve(cost)
        stats.requests++
        let retryIn: number
        let reason: string
        try {
          const res = await client.request<T>(query, { variables, retries: 0, signal })
          const ext = res.extensions as
            | {
                cost?: {
                  requestedQueryCost?: number
                  actualQueryCost?: number | null
                  throttleStatus?: ThrottleStatus
                }
              }
            | undefined
          if (ext?.cost?.throttleStatus) b.update(ext.cost.throttleStatus)
          if (typeof ext?.cost?.actualQueryCost === 'number') b.spent(ext.cost.actualQueryCost)
          if (typeof ext?.cost?.requestedQueryCost === 'number')
            expected.set(key, ext.cost.requestedQueryCost)
          if (res.data === undefined || res.data === null)
            throw new ShopifyTransientError('empty GraphQL response')
          return res.data
        } catch (err) {
          if (signal?.aborted) throw err
          const c = classify(err)
          if (c.kind === 'throttled') {
            const requested = c.requested ?? cost
            if (typeof c.requested === 'number') expected.set(key, c.requested)
            retryIn = c.status ? b.throttled(requested, c.status) : backoffMs(throttles, 1000, cap)
            stats.throttledCount++
            stats.throttledMs += retryIn
            b.addWaited(retryIn)
            if (++throttles > 50) throw new ShopifyTransientError('throttled 50 times in a row')
            release()
            await sleep(retryIn, signal)
            continue
          }
          if (c.kind === 'fatal') throw c.error
          attempt++
          if (attempt >= maxAttempts)
            throw new ShopifyTransientError(`${c.reason} after ${attempt} attempts`)
          retryIn = Math.max(c.retryAfterMs ?? 0, backoffMs(attempt - 1, base, cap))
          reason = c.reason
          opts.onRetry?.({ shop, attempt, delayMs: retryIn, reason })
        } finally {
          release()
        }
        await sleep(retryIn, signal)
      }
    }

    /** Relay paging as an async iterator of pages (`first`/`after`). */
    async function* paginate<N>(
      query: string,
      pick: (data: unknown) => {
        nodes: N[]
        pageInfo: { hasNextPage: boolean; endCursor: string | null }
      },
      variables: Record<string, unknown>,
      signal?: AbortSignal,
    ): AsyncGenerator<{ nodes: N[]; endCursor: string | null; hasNextPage: boolean }> {
      let after = (variables.after as string | null | undefined) ?? null
      for (;;) {
        const data = await request<unknown>(query, { ...variables, after }, signal)
        const conn = pick(data)
        yield {
          nodes: conn.nodes,
          endCursor: conn.pageInfo.endCursor,
          hasNextPage: conn.pageInfo.hasNextPage,
        }
        if (!conn.pageInfo.hasNextPage || !conn.pageInfo.endCursor) return
        after = conn.pageInfo.endCursor
      }
    }

    return { shop, request, paginate, stats, budget: b }
  }

  /** Exchanges a refresh token for a new access/refresh pair (rotating). */
  async function refreshAccessToken(shop: string, refreshToken: string): Promise<TokenGrant> {
    try {
      const { session } = await shopify.auth.refreshToken({ shop, refreshToken })
      const s = session as Session & { refreshToken?: string; refreshTokenExpires?: Date }
      return {
        accessToken: s.accessToken ?? '',
        scope: s.scope ?? '',
        expiresAt: s.expires ?? null,
        refreshToken: s.refreshToken ?? null,
        refreshExpiresAt: s.refreshTokenExpires ?? null,
      }
    } catch (err) {
      const c = classify(err)
      if (c.kind === 'fatal') throw c.error
      if (err instanceof HttpResponseError && httpStatus(err) === 400)
        throw new ShopifyAuthError('refresh token rejected', 400)
      throw new ShopifyTransientError(
        `token refresh failed: ${c.kind === 'retry' ? c.reason : 'throttled'}`,
      )
    }
  }

  return { forShop, refreshAccessToken, apiVersion, budget }
}

type Classified =
  | { kind: 'throttled'; requested?: number; status?: ThrottleStatus }
  | { kind: 'retry'; reason: string; retryAfterMs?: number }
  | { kind: 'fatal'; error: ShopifyError }

function classify(err: unknown): Classified {
  if (err instanceof ShopifyError)
    return err.retryable ? { kind: 'retry', reason: err.message } : { kind: 'fatal', error: err }
  if (err instanceof GraphqlQueryError) {
    const body = err.body as
      | {
          errors?: { graphQLErrors?: { message?: string; extensions?: { code?: string } }[] }
          extensions?: { cost?: { requestedQueryCost?: number; throttleStatus?: ThrottleStatus } }
        }
      | undefined
    const first = body?.errors?.graphQLErrors?.[0]
    const code = first?.extensions?.code
    if (code === 'THROTTLED')
      return {
        kind: 'throttled',
        requested: body?.extensions?.cost?.requestedQueryCost,
        status: body?.extensions?.cost?.throttleStatus,
      }
    if (code === 'INTERNAL_SERVER_ERROR') return { kind: 'retry', reason: 'graphql internal error' }
    if (code === 'ACCESS_DENIED')
      return { kind: 'fatal', error: new ShopifyAuthError(first?.message ?? 'access denied', 403) }
    if (code === 'SHOP_INACTIVE')
      return { kind: 'fatal', error: new ShopifyShopUnavailableError('shop inactive', 403) }
    return { kind: 'fatal', error: new ShopifyQueryError(err.message, code) }
  }
  if (err instanceof HttpThrottlingError) {
    const ra = err.response.retryAfter
    return {
      kind: 'retry',
      reason: 'http 429',
      retryAfterMs: typeof ra === 'number' && Number.isFinite(ra) ? ra * 1000 : 2000,
    }
  }
  if (err instanceof HttpResponseError) {
    const code = httpStatus(err)
    if (code === 401)
      return { kind: 'fatal', error: new ShopifyAuthError('access token rejected (401)', 401) }
    if (code === 402 || code === 403 || code === 423 || code === 404)
      return {
        kind: 'fatal',
        error: new ShopifyShopUnavailableError(`shop unavailable (${code})`, code),
      }
    // A 2xx that still failed is an unreadable (truncated, non-JSON) body: transient.
    if (code >= 500 || code === 408 || (code >= 200 && code < 300))
      return { kind: 'retry', reason: `http ${code}` }
    return { kind: 'fatal', error: new ShopifyQueryError(`http ${code}`) }
  }
  if (err instanceof HttpRequestError) return { kind: 'retry', reason: 'connection failed' }
  const e = err as Error
  // Timeouts, resets, truncated or non-JSON bodies from the library's fetch/parse.
  return { kind: 'retry', reason: `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}` }
}

export type ShopifyAdmin = ReturnType<typeof createShopifyAdmin>
export type ShopClient = ReturnType<ShopifyAdmin['forShop']>

function httpStatus(err: { response: unknown }): number {
  return Number((err.response as { code?: unknown }).code)
}
