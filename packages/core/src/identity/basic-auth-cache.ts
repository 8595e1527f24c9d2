import { randomBytes } from 'node:crypto'
import { hmac } from './secrets.ts'

export type BasicCacheEntry = {
  tenantId: string
  userId: string
  /** The stored hash the password was verified against; a changed hash misses. */
  passwordHash: string
  expiresAt: number
}

export type BasicAuthCacheOptions = {
  ttlMs?: number
  maxEntries?: number
  now?: () => number
}

/**
 * Remembers recently verified HTTP Basic credentials so a repeated request costs a keyed hash
 * instead of an argon2 verification. Keys are HMACs under a per-process random key, so the
 * cache holds no password and no offline-guessable digest of one.
 */
export function createBasicAuthCache(options: BasicAuthCacheOptions = {}) {
  const ttlMs = options.ttlMs ?? 30_000
  const maxEntries = options.maxEntries ?? 10_000
  const now = options.now ?? Date.now
  const secret = randomBytes(32)
  const entries = new Map<string, BasicCacheEntry>()

  return {
    key(tenantId: string, username: string, password: string): string {
      // Lengths first, so no two (username, password) pairs share an input.
      return hmac(
        secret,
        `${tenantId}\0${username.length}\0${username}\0${password.length}\0${password}`,
      ).toString('base64url')
    },
    get(key: string): BasicCacheEntry | undefined {
      const e = entries.get(key)
      if (!e) return undefined
      if (e.expiresAt <= now()) {
        entries.delete(key)
        return undefined
      }
      return e
    },
    set(key: string, e: Omit<BasicCacheEntry, 'expiresAt'>): void {
      entries.delete(key)
      entries.set(key, { ...e, expiresAt: now() + ttlMs })
      // Map iteration is insertion order: drop the oldest.
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value
        if (oldest === undefined) break
        entries.delete(oldest)
      }
    },
    /** Forgets every cached credential of one user (password change, role change). */
    invalidateUser(tenantId: string, userId: string): void {
      for (const [k, e] of entries)
        if (e.tenantId === tenantId && e.userId === userId) entries.delete(k)
    },
    get size() {
      return entries.size
    },
  }
}

export type BasicAuthCache = ReturnType<typeof createBasicAuthCache>
