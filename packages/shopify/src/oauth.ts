import { createHmac, timingSafeEqual } from 'node:crypto'
import type { TokenGrant } from './admin-client.ts'
import { ShopifyAuthError, ShopifyTransientError } from './errors.ts'

/** The library's tolerance for the callback's `timestamp` (HMAC_TIMESTAMP_PERMITTED_CLOCK_TOLERANCE_SEC). */
export const OAUTH_TIMESTAMP_TOLERANCE_SEC = 90

/** Shopify's authorize URL for an offline (optionally expiring) token (FACTS.md §5.1 step 2). */
export function authorizeUrl(p: {
  shop: string
  clientId: string
  scopes: string
  redirectUri: string
  state: string
}): string {
  const q = new URLSearchParams({
    client_id: p.clientId,
    scope: p.scopes,
    redirect_uri: p.redirectUri,
    state: p.state,
    'grant_options[]': '',
  })
  return `https://${p.shop}/admin/oauth/authorize?${q.toString()}`
}

/**
 * The callback's signature, computed as Shopify and @shopify/shopify-api do: every parameter but
 * `hmac` and `signature`, sorted, URL-encoded (spaces as %20), hex HMAC-SHA256.
 */
export function oauthQueryHmac(query: Record<string, string>, secret: string): string {
  const pairs = Object.keys(query)
    .filter((k) => k !== 'hmac' && k !== 'signature')
    .sort((a, b) => a.localeCompare(b))
    .map((k) => [k, query[k]!] as [string, string])
  // URLSearchParams writes a space as '+'; Shopify's signature (and the library) uses %20.
  const message = new URLSearchParams(pairs).toString().replace(/\+/g, '%20')
  return createHmac('sha256', secret).update(message).digest('hex')
}

/** Constant-time check of the callback's `hmac` against each accepted secret. */
export function verifyOAuthQuery(
  query: Record<string, string>,
  secrets: readonly string[],
): boolean {
  const given = query.hmac
  if (typeof given !== 'string' || !/^[0-9a-f]{64}$/i.test(given)) return false
  const a = Buffer.from(given.toLowerCase(), 'hex')
  let ok = false
  for (const s of secrets)
    ok = timingSafeEqual(a, Buffer.from(oauthQueryHmac(query, s), 'hex')) || ok
  return ok
}

/**
 * A fetch that sends `https://{shop}.myshopify.com/...` to `adminOrigin` when set (the fake
 * store), carrying the shop in `x-fake-shop` (FACTS.md §6.4).
 */
export function createAdminFetch(adminOrigin: string | undefined, baseFetch: typeof fetch = fetch) {
  const origin = adminOrigin?.replace(/\/+$/, '')
  return async (url: string, init: RequestInit = {}): Promise<Response> => {
    const u = new URL(url)
    if (origin && u.hostname.endsWith('.myshopify.com')) {
      const h = new Headers(init.headers)
      h.set('x-fake-shop', u.host)
      return baseFetch(`${origin}${u.pathname}${u.search}`, { ...init, headers: h })
    }
    return baseFetch(u, init)
  }
}

/** Exchanges an authorization code for an expiring offline token (access 1 h + refresh 90 d). */
export async function exchangeAuthorizationCode(p: {
  shop: string
  code: string
  clientId: string
  clientSecret: string
  fetch: (url: string, init?: RequestInit) => Promise<Response>
  now?: () => Date
  timeoutMs?: number
}): Promise<TokenGrant> {
  let res: Response
  try {
    res = await p.fetch(`https://${p.shop}/admin/oauth/access_token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        client_id: p.clientId,
        client_secret: p.clientSecret,
        code: p.code,
        expiring: '1',
      }),
      signal: AbortSignal.timeout(p.timeoutMs ?? 15_000),
    })
  } catch (err) {
    throw new ShopifyTransientError(`token exchange failed: ${(err as Error).message}`)
  }
  if (res.status >= 500 || res.status === 429)
    throw new ShopifyTransientError(`token exchange failed: http ${res.status}`)
  if (!res.ok) throw new ShopifyAuthError(`authorization code rejected (${res.status})`, res.status)
  const body = (await res.json().catch(() => null)) as {
    access_token?: string
    scope?: string
    expires_in?: number
    refresh_token?: string
    refresh_token_expires_in?: number
  } | null
  if (!body?.access_token) throw new ShopifyAuthError('token response without access_token', 502)
  const now = (p.now ?? (() => new Date()))().getTime()
  return {
    accessToken: body.access_token,
    scope: body.scope ?? '',
    expiresAt: typeof body.expires_in === 'number' ? new Date(now + body.expires_in * 1000) : null,
    refreshToken: body.refresh_token ?? null,
    refreshExpiresAt:
      typeof body.refresh_token_expires_in === 'number'
        ? new Date(now + body.refresh_token_expires_in * 1000)
        : null,
  }
}

/**
 * Scopes the app asked for that the merchant did not grant. Shopify reports a write scope in
 * place of its read scope (`write_orders` implies `read_orders`).
 */
export function missingScopes(requested: string, granted: string): string[] {
  const have = new Set(
    granted
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  )
  return requested
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .filter((s) => !have.has(s) && !(s.startsWith('read_') && have.has(`write_${s.slice(5)}`)))
}
