import type { Database } from '@xeno/db'
import { normalizeShopDomain } from '@xeno/shopify'
import { ConflictError, NotFoundError, UnauthorizedError } from '../errors.ts'
import { createTenantRepository } from '../tenancy/tenant.repository.ts'
import { createBasicAuthCache, type BasicAuthCache } from './basic-auth-cache.ts'
import type { PasswordHasher } from './password.ts'
import { isUniqueViolation } from './pg-errors.ts'
import { randomToken, sha256 } from './secrets.ts'
import { singleFlight } from './single-flight.ts'
import {
  DEFAULT_SESSION_POLICY,
  sessionIsLive,
  sessionNeedsTouch,
  type SessionPolicy,
} from './session-policy.ts'
import { createTenantUserRepository, type TenantRole } from './tenant-user.repository.ts'

export type { TenantRole }

export type TenantUserDeps = {
  db: Database
  hasher: PasswordHasher
  basicCache?: BasicAuthCache
  sessionPolicy?: SessionPolicy
  now?: () => Date
}

/** A tenant user as the auth layer sees it. */
export type TenantUserIdentity = { tenantId: string; userId: string; role: TenantRole }

const BAD_LOGIN = 'invalid shop, username or password'

/** Tenant users: accounts, roles, password changes, sessions and HTTP Basic verification. */
export function createTenantUserService(deps: TenantUserDeps) {
  const repo = createTenantUserRepository(deps.db)
  const tenants = createTenantRepository(deps.db)
  const cache = deps.basicCache ?? createBasicAuthCache()
  const policy = deps.sessionPolicy ?? DEFAULT_SESSION_POLICY
  const now = deps.now ?? (() => new Date())
  const inflight = new Map<string, Promise<TenantUserIdentity | null>>()
  // Every Basic request reads the user (its stored hash guards the cache): concurrent requests
  // of one user share that read.
  const findUserForBasic = singleFlight(
    (tenantId: string, username: string) => `${tenantId}\0${username}`,
    (tenantId: string, username: string) => repo.findUserByUsername(tenantId, username),
  )

  /** Verifies a password against a stored hash, upgrading the hash when parameters rose. */
  const verify = async (
    user: { tenantId: string; id: string; passwordHash: string },
    pw: string,
  ) => {
    if (!(await deps.hasher.verify(user.passwordHash, pw))) return false
    if (deps.hasher.needsRehash(user.passwordHash)) {
      const next = await deps.hasher.hash(pw)
      await repo.replacePasswordHash(user.tenantId, user.id, user.passwordHash, next)
      cache.invalidateUser(user.tenantId, user.id)
    }
    return true
  }

  return {
    async create(
      tenantId: string,
      input: { username: string; password: string; role: TenantRole },
    ) {
      const passwordHash = await deps.hasher.hash(input.password)
      try {
        return await repo.insertUser(tenantId, {
          username: input.username,
          passwordHash,
          role: input.role,
        })
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ConflictError('username is taken in this tenant', 'USERNAME_TAKEN')
        throw err
      }
    },

    list: (tenantId: string) => repo.listUsers(tenantId),

    /** Changes a password and/or role. A new password revokes the user's sessions and cached Basic credentials. */
    async update(
      tenantId: string,
      userId: string,
      change: { password?: string | undefined; role?: TenantRole | undefined },
    ) {
      const passwordHash =
        change.password === undefined ? undefined : await deps.hasher.hash(change.password)
      const row = await repo.updateUser(
        tenantId,
        userId,
        { passwordHash, role: change.role },
        now(),
      )
      if (!row) throw new NotFoundError('user not found')
      cache.invalidateUser(tenantId, userId)
      return row
    },

    /** True when `password` is the user's current one (equal time when the user is unknown). */
    async verifyPassword(tenantId: string, userId: string, password: string): Promise<boolean> {
      const found = await repo.findUser(tenantId, userId)
      const user = found ? await repo.findUserByUsername(tenantId, found.username) : undefined
      if (!user || user.id !== userId) {
        await deps.hasher.burn(password)
        return false
      }
      return verify(user, password)
    },

    /** Shop + username + password → a new session (equal time whether shop or user exist). */
    async login(input: { shop: string; username: string; password: string }) {
      const domain = normalizeShopDomain(input.shop)
      const tenant = domain ? await tenants.findTenantByShopDomain(domain) : undefined
      const user = tenant ? await repo.findUserByUsername(tenant.id, input.username) : undefined
      if (!user) {
        await deps.hasher.burn(input.password)
        throw new UnauthorizedError(BAD_LOGIN, 'INVALID_CREDENTIALS')
      }
      if (!(await verify(user, input.password)))
        throw new UnauthorizedError(BAD_LOGIN, 'INVALID_CREDENTIALS')
      const t = now()
      const token = randomToken()
      const expiresAt = new Date(t.getTime() + policy.absoluteMs)
      await repo.insertSession(user.tenantId, {
        userId: user.id,
        tokenHash: sha256(token),
        now: t,
        expiresAt,
      })
      return {
        user: {
          tenantId: user.tenantId,
          userId: user.id,
          username: user.username,
          role: user.role,
        },
        session: { token, expiresAt },
      }
    },

    /** The user a session cookie belongs to, or null when unknown, revoked or expired. */
    authenticateSession: singleFlight(
      (token: string) => token,
      async (token: string): Promise<(TenantUserIdentity & { sessionId: string }) | null> => {
        const s = await repo.findTenantSessionByTokenHash(sha256(token))
        const t = now()
        if (!s || !sessionIsLive(s, t, policy)) return null
        if (sessionNeedsTouch(s, t)) await repo.touchSession(s.tenantId, s.id, t)
        return { tenantId: s.tenantId, userId: s.userId, role: s.role, sessionId: s.id }
      },
    ),

    async logout(tenantId: string, sessionId: string) {
      await repo.revokeSession(tenantId, sessionId, now())
    },

    /**
     * HTTP Basic for one tenant. A repeat of recently verified credentials is answered from the
     * cache when the stored hash is unchanged (a password change elsewhere misses at once);
     * `beforeHash` runs before any argon2 work (the caller's rate limit).
     */
    async verifyBasic(
      tenantId: string,
      username: string,
      password: string,
      beforeHash: () => Promise<void> = async () => {},
    ): Promise<TenantUserIdentity | null> {
      const user = await findUserForBasic(tenantId, username)
      const key = cache.key(tenantId, username, password)
      const hit = cache.get(key)
      if (user && hit && hit.userId === user.id && hit.passwordHash === user.passwordHash)
        return { tenantId, userId: user.id, role: user.role }
      // Concurrent misses of the same credentials share one verification (a busy client whose
      // entry just expired costs one hash, not one per in-flight request).
      const pending = inflight.get(key)
      if (pending) return pending
      const verification = (async (): Promise<TenantUserIdentity | null> => {
        await beforeHash()
        if (!user) {
          await deps.hasher.burn(password)
          return null
        }
        if (!(await verify(user, password))) return null
        // After a rehash the stored hash differs: the next request verifies once more and caches.
        cache.set(key, { tenantId, userId: user.id, passwordHash: user.passwordHash })
        return { tenantId, userId: user.id, role: user.role }
      })()
      inflight.set(key, verification)
      try {
        return await verification
      } finally {
        inflight.delete(key)
      }
    },

    async get(tenantId: string, userId: string) {
      const user = await repo.findUser(tenantId, userId)
      if (!user) throw new NotFoundError('user not found')
      return user
    },
  }
}

export type TenantUserService = ReturnType<typeof createTenantUserService>
