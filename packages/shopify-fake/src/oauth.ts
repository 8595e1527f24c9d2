import { createHmac, randomBytes } from 'node:crypto'

/** Hex HMAC of an OAuth query as Shopify signs it and @shopify/shopify-api checks it: drop
 * `hmac`/`signature`, sort keys (localeCompare), URL-encode values (spaces as %20), join with &. */
export function oauthHmac(secret: string, params: Record<string, string>): string {
  const q = new URLSearchParams()
  for (const k of Object.keys(params).sort((a, b) => a.localeCompare(b))) {
    if (k === 'hmac' || k === 'signature') continue
    q.append(k, params[k] ?? '')
  }
  return createHmac('sha256', secret).update(q.toString().replace(/\+/g, '%20')).digest('hex')
}

/** `host` as Shopify sends it: unpadded base64 of admin.shopify.com/store/{handle}. */
export const oauthHost = (shop: string): string =>
  Buffer.from(`admin.shopify.com/store/${shop.replace('.myshopify.com', '')}`)
    .toString('base64')
    .replace(/=+$/, '')

export const randomToken = (prefix: string): string => `${prefix}${randomBytes(16).toString('hex')}`
