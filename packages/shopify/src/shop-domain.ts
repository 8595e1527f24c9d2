const SHOP_RE = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/

/**
 * Normalises what a user types for a shop ("My-Store", "my-store.myshopify.com",
 * "https://my-store.myshopify.com/") to `my-store.myshopify.com`, or null when it is not one.
 */
export function normalizeShopDomain(input: string): string | null {
  if (typeof input !== 'string' || input.length > 255) return null
  let s = input.trim().toLowerCase()
  s = s.replace(/^https?:\/\//, '').replace(/\/+$/, '')
  if (/^[a-z0-9][a-z0-9-]*$/.test(s)) s = `${s}.myshopify.com`
  return SHOP_RE.test(s) ? s : null
}
