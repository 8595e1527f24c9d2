import { sql, withTenant, type Database } from '@xeno/db'

export type TenantRole = 'owner' | 'viewer'
export type TenantUserRow = {
  id: string
  tenantId: string
  username: string
  passwordHash: string
  role: TenantRole
}
export type TenantSessionRow = {
  id: string
  tenantId: string
  userId: string
  role: TenantRole
  lastSeenAt: Date
  expiresAt: Date
  revokedAt: Date | null
}

const PUBLIC_COLUMNS = ['id', 'username', 'role', 'createdAt', 'passwordChangedAt'] as const

/** All SQL on tenant_users and tenant_sessions. */
export function createTenantUserRepository(db: Database) {
  return {
    async insertUser(
      tenantId: string,
      u: { username: string; passwordHash: string; role: TenantRole },
    ) {
      return withTenant(db, tenantId, (trx) =>
        trx
          .insertInto('tenantUsers')
          .values({ tenantId, ...u })
          .returning(PUBLIC_COLUMNS)
          .executeTakeFirstOrThrow(),
      )
    },

    async listUsers(tenantId: string) {
      return withTenant(db, tenantId, (trx) =>
        trx
          .selectFrom('tenantUsers')
          .select(PUBLIC_COLUMNS)
          .where('tenantId', '=', tenantId)
          .orderBy('username')
          .execute(),
      )
    },

    async findUser(tenantId: string, userId: string) {
      return withTenant(db, tenantId, (trx) =>
        trx
          .selectFrom('tenantUsers')
          .select(PUBLIC_COLUMNS)
          .where('tenantId', '=', tenantId)
          .where('id', '=', userId)
          .executeTakeFirst(),
      )
    },

    async findUserByUsername(
      tenantId: string,
      username: string,
    ): Promise<TenantUserRow | undefined> {
      const row = await withTenant(db, tenantId, (trx) =>
        trx
          .selectFrom('tenantUsers')
          .select(['id', 'tenantId', 'username', 'passwordHash', 'role'])
          .where('tenantId', '=', tenantId)
          .where('username', '=', username)
          .executeTakeFirst(),
      )
      return row as TenantUserRow | undefined
    },

    /** Updates password and/or role; a new password also revokes every session of the user. */
    async updateUser(
      tenantId: string,
      userId: string,
      change: { passwordHash?: string | undefined; role?: TenantRole | undefined },
      now: Date,
    ) {
      return withTenant(db, tenantId, async (trx) => {
        const row = await trx
          .updateTable('tenantUsers')
          .set({
            updatedAt: now,
            ...(change.role ? { role: change.role } : {}),
            ...(change.passwordHash
              ? { passwordHash: change.passwordHash, passwordChangedAt: now }
              : {}),
          })
          .where('tenantId', '=', tenantId)
          .where('id', '=', userId)
          .returning(PUBLIC_COLUMNS)
          .executeTakeFirst()
        if (row && change.passwordHash)
          await trx
            .updateTable('tenantSessions')
            .set({ revokedAt: now })
            .where('tenantId', '=', tenantId)
            .where('userId', '=', userId)
            .where('revokedAt', 'is', null)
            .execute()
        return row
      })
    },

    /** Rehash on login: only if the stored hash is still the one that was verified. */
    async replacePasswordHash(tenantId: string, userId: string, from: string, to: string) {
      await withTenant(db, tenantId, (trx) =>
        trx
          .updateTable('tenantUsers')
          .set({ passwordHash: to })
          .where('tenantId', '=', tenantId)
          .where('id', '=', userId)
          .where('passwordHash', '=', from)
          .execute(),
      )
    },

    async insertSession(
      tenantId: string,
      s: { userId: string; tokenHash: Buffer; now: Date; expiresAt: Date },
    ) {
      await withTenant(db, tenantId, (trx) =>
        trx
          .insertInto('tenantSessions')
          .values({
            tenantId,
            userId: s.userId,
            tokenHash: s.tokenHash,
            createdAt: s.now,
            lastSeenAt: s.now,
            expiresAt: s.expiresAt,
          })
          .execute(),
      )
    },

    /** Resolves a session cookie before its tenant is known. */
    async findTenantSessionByTokenHash(tokenHash: Buffer): Promise<TenantSessionRow | undefined> {
      // The database's narrow lookup: one row for the hash, whatever the tenant.
      const { rows } = await sql<TenantSessionRow>`
        SELECT id, tenant_id, user_id, role, last_seen_at, expires_at, revoked_at
        FROM app_tenant_session_by_hash(${tokenHash})`.execute(db)
      return rows[0]
    },

    async touchSession(tenantId: string, sessionId: string, now: Date) {
      await withTenant(db, tenantId, (trx) =>
        trx
          .updateTable('tenantSessions')
          .set({ lastSeenAt: now })
          .where('tenantId', '=', tenantId)
          .where('id', '=', sessionId)
          .execute(),
      )
    },

    async revokeSession(tenantId: string, sessionId: string, now: Date) {
      await withTenant(db, tenantId, (trx) =>
        trx
          .updateTable('tenantSessions')
          .set({ revokedAt: now })
          .where('tenantId', '=', tenantId)
          .where('id', '=', sessionId)
          .where('revokedAt', 'is', null)
          .execute(),
      )
    },
  }
}

export type TenantUserRepository = ReturnType<typeof createTenantUserRepository>
