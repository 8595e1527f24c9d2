import { createHmac, timingSafeEqual } from 'node:crypto'

/** Shopify's webhook signature: base64 HMAC-SHA256 of the exact body bytes with the client secret. */
export function webhookHmac(body: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64')
}

/** 32 bytes in standard base64: 42 free characters, one with two zero bits, then "=". */
const CANONICAL_SHA256_BASE64 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/

/**
 * Checks X-Shopify-Hmac-Sha256 in constant time against each accepted secret (the current one
 * and, while rotating, the previous: Shopify may sign with the old secret for up to an hour).
 */
export function verifyWebhookHmac(
  body: Buffer,
  header: string | undefined,
  secrets: readonly string[],
): boolean {
  // Only the canonical spelling Shopify sends: 44 characters of standard base64 with its one
  // "=" and zero padding bits. Node's decoder alone also takes URL-safe letters, whitespace,
  // missing padding and stray bits, so several headers would pass for one signature. (The
  // format is not secret; the comparison below is the constant-time part.)
  if (typeof header !== 'string' || !CANONICAL_SHA256_BASE64.test(header)) return false
  const given = Buffer.from(header, 'base64')
  if (given.length !== 32 || given.toString('base64') !== header) return false
  let ok = false
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body).digest()
    // Evaluate every secret so timing does not reveal which one matched.
    ok = timingSafeEqual(given, expected) || ok
  }
  return ok
}
