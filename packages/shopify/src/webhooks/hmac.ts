import { createHmac, timingSafeEqual } from 'node:crypto'

/** Shopify's webhook signature: base64 HMAC-SHA256 of the exact body bytes with the client secret. */
export function webhookHmac(body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64')
}

/**
 * Checks X-Shopify-Hmac-Sha256 in constant time against each accepted secret (the current one
 * and, while rotating, the previous: Shopify may sign with the old secret for up to an hour).
 */
export function verifyWebhookHmac(
  body: Buffer,
  header: string | undefined,
  secrets: readonly string[],
): boolean {
  if (typeof header !== 'string' || header.length === 0 || header.length > 128) return false
  const given = Buffer.from(header, 'base64')
  if (given.length !== 32) return false
  let ok = false
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body).digest()
    // Evaluate every secret so timing does not reveal which one matched.
    ok = timingSafeEqual(given, expected) || ok
  }
  return ok
}
