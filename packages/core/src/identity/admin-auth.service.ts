import type { Database } from '@xeno/db'
import { ConflictError, ForbiddenError, UnauthorizedError } from '../errors.ts'
import { createAdminRepository } from './admin.repository.ts'
import type { PasswordHasher } from './password.ts'
import { isUniqueViolation } from './pg-errors.ts'
import { randomToken, safeEqual, sha256 } from './secrets.ts'
import { singleFlight } from './single-flight.ts'
import {
  DEFAULT_SESSION_POLICY,
  sessionIsLive,
  sessionNeedsTouch,
  type SessionPolicy,
} from './session-policy.ts'

export type AdminAuthDeps = {
  db: Database
  hasher: PasswordHasher
  /** When set, POST /api/admin/bootstrap must present it. */
  bootstrapToken?: string | undefined
  sessionPolicy?: SessionPolicy
  now?: () => Date
}

/** A new session: the token goes to the cookie once; only its SHA-256 is stored. */
export type IssuedSession = { token: string; expiresAt: Date }

const BAD_LOGIN = 'invalid username or password'

/** Admin accounts and sessions: bootstrap, CLI creation, login/logout, cookie resolution. */
export function createAdminAuthService(deps: AdminAuthDeps) {
  const repo = createAdminRepository(deps.db)
  const policy = deps.sessionPolicy ?? DEFAULT_SESSION_POLICY
  const now = deps.now ?? (() => new Date())

  const createAdmin = async (username: string, password: string) => {
    const hash = await deps.hasher.hash(password)
    try {
      return await repo.insertAdmin(username, hash)
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError('username is taken', 'USERNAME_TAKEN')
      throw err
    }
  }

  return {
    /** Creates the first admin; refused once any admin exists, whoever wins a race. */
    async bootstrap(input: { username: string; password: string; token?: string | undefined }) {
      if (deps.bootstrapToken !== undefined) {
        if (input.token === undefined || !safeEqual(input.token, deps.bootstrapToken))
          throw new ForbiddenError('a valid bootstrap token is required', 'BOOTSTRAP_TOKEN_INVALID')
      }
      const hash = await deps.hasher.hash(input.password)
      const admin = await repo.insertFirstAdmin(input.username, hash)
      if (!admin) throw new ConflictError('an admin already exists', 'ADMIN_EXISTS')
      return admin
    },

    /** True once any admin exists. */
    exists: () => repo.anyAdmin(),

    /** Creates an admin unconditionally (the `pnpm admin:create` CLI, run by an operator). */
    createAdmin,

    /** Verifies the password (equal time for unknown users) and opens a new session. */
    async login(input: { username: string; password: string }) {
      const admin = await repo.findAdminByUsername(input.username)
      if (!admin) {
        await deps.hasher.burn(input.password)
        throw new UnauthorizedError(BAD_LOGIN, 'INVALID_CREDENTIALS')
      }
      if (!(await deps.hasher.verify(admin.passwordHash, input.password)))
        throw new UnauthorizedError(BAD_LOGIN, 'INVALID_CREDENTIALS')
      const t = now()
      if (deps.hasher.needsRehash(admin.passwordHash))
        await repo.updateAdminPasswordHash(admin.id, await deps.hasher.hash(input.password), t)
      const token = randomToken()
      const expiresAt = new Date(t.getTime() + policy.absoluteMs)
      await repo.insertAdminSession({
        adminId: admin.id,
        tokenHash: sha256(token),
        now: t,
        expiresAt,
      })
      return {
        admin: { id: admin.id, username: admin.username },
        session: { token, expiresAt } satisfies IssuedSession,
      }
    },

    /** The admin a session cookie belongs to, or null when unknown, revoked or expired. */
    authenticate: singleFlight(
      (token: string) => token,
      async (token: string) => {
        const s = await repo.findAdminSessionByTokenHash(sha256(token))
        const t = now()
        if (!s || !sessionIsLive(s, t, policy)) return null
        if (sessionNeedsTouch(s, t)) await repo.touchAdminSession(s.id, t)
        return { adminId: s.adminId, username: s.username, sessionId: s.id }
      },
    ),

    /** Revokes the session at once (the cookie stops working everywhere). */
    async logout(token: string) {
      await repo.revokeAdminSessionByTokenHash(sha256(token), now())
    },

    async me(adminId: string) {
      return repo.findAdmin(adminId)
    },
  }
}

export type AdminAuthService = ReturnType<typeof createAdminAuthService>
