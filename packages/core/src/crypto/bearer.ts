import { createHash, timingSafeEqual } from 'node:crypto'

/**
 * True when `header` is `Bearer <token>`; compares SHA-256 digests in constant time, so neither
 * the token's length nor its content leaks through timing (the API's and each worker's /metrics).
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
  if (!m) return false
  return timingSafeEqual(
    createHash('sha256').update(m[1]!).digest(),
    createHash('sha256').update(token).digest(),
  )
}
