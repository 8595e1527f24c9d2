import { SHOP_QUERY, createAdminFetch } from '@xeno/shopify'
import { AppError, ExternalServiceError } from '../errors.ts'

/** What the manual-token check reads from Shopify's `shop` object. */
export type ShopDetails = { name: string; ianaTimezone: string; currencyCode: string }

/** Checks an Admin API token against its shop; throws when Shopify rejects it. */
export type CheckShopToken = (shopDomain: string, accessToken: string) => Promise<ShopDetails>

export type ShopTokenCheckerOptions = {
  apiVersion: string
  /**
   * SHOPIFY_ADMIN_ORIGIN: when set, https://{shop}/admin/... goes to this origin instead, with
   * the shop named in `x-fake-shop` (how the fake Shopify tells shops apart; FACTS.md §6.4).
   */
  adminOrigin?: string | undefined
  timeoutMs?: number
  fetch?: typeof fetch
}

function rejected(message: string): AppError {
  return new AppError('SHOPIFY_TOKEN_REJECTED', message, [{ field: 'access_token', message }])
}

/** The production token check: one `shop` GraphQL query over real HTTP. */
export function createShopTokenChecker(options: ShopTokenCheckerOptions): CheckShopToken {
  // The same query the install reads, from the schema-validated document set.
  const doFetch = createAdminFetch(options.adminOrigin, options.fetch ?? fetch)
  return async (shopDomain, accessToken) => {
    const url = `https://${shopDomain}/admin/api/${options.apiVersion}/graphql.json`
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-shopify-access-token': accessToken,
    }
    let res: Response
    let body: unknown
    try {
      res = await doFetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: SHOP_QUERY }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      })
      body = await res.json().catch(() => undefined)
    } catch {
      throw new ExternalServiceError('shopify', 'Shopify did not answer the token check')
    }
    if (res.status === 401 || res.status === 403)
      throw rejected('Shopify rejected this access token for the shop')
    if (res.status === 404 || res.status === 402 || res.status === 423)
      throw rejected('Shopify does not serve this shop')
    if (!res.ok) throw new ExternalServiceError('shopify', `Shopify answered ${res.status}`)
    const shop = (body as { data?: { shop?: Partial<ShopDetails> } } | undefined)?.data?.shop
    if (
      !shop ||
      typeof shop.name !== 'string' ||
      typeof shop.ianaTimezone !== 'string' ||
      typeof shop.currencyCode !== 'string'
    ) {
      const code = (body as { errors?: { extensions?: { code?: string } }[] } | undefined)
        ?.errors?.[0]?.extensions?.code
      if (code === 'ACCESS_DENIED') throw rejected('the token may not read the shop')
      throw new ExternalServiceError('shopify', 'Shopify answered the token check without a shop')
    }
    return { name: shop.name, ianaTimezone: shop.ianaTimezone, currencyCode: shop.currencyCode }
  }
}
