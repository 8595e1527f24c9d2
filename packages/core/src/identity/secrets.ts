import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/** 256 random bits, base64url (43 characters): session tokens. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url')
}

/** SHA-256 of a session token, as stored server-side (the token itself is never stored). */
export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest()
}

/** HMAC-SHA256(key, value). */
export function hmac(key: string | Buffer, value: string): Buffer {
  return createHmac('sha256', key).update(value, 'utf8').digest()
}

/** Constant-time string equality (false on different lengths). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8')
  const bb = Buffer.from(b, 'utf8')
  return ab.length === bb.length && timingSafeEqual(ab, bb)
}

/** Every API key starts with this, so leaked keys are recognisable (secret scanners, logs). */
export const API_KEY_PREFIX = 'xeno_'
/** `xeno_` + 256 random bits in base64url. */
export const API_KEY_RE = /^xeno_[A-Za-z0-9_-]{43}$/

/** A new API key; shown to its creator once and stored only as an HMAC. */
export function newApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`
}
