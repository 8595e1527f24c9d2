import { sql, withAdmin, type Database } from '@xeno/db'

// admin_users and admin_sessions belong to no tenant; row-level security shows them only inside
// a signed admin context (withAdmin), so the runtime role alone, whatever SQL it runs, reads no
// admin row or password hash.

export type AdminRow = { id: string; username: string; passwordHash: string }
export type AdminSessionRow = {
  id: string
  adminId: string
  username: string
  lastSeenAt: Date
  expiresAt: Date
  revokedAt: Date | null
}

// Serialises first-admin creation across processes; held only for the transaction.
const BOOTSTRAP_LOCK = 727_104

/** All SQL on admin_users and admin_sessions. */
export function createAdminRepository(db: Database) {
  return {
    /** Inserts the admin only while none exists (atomic across concurrent callers); null otherwise. */
    async insertFirstAdmin(username: string, passwordHash: string) {
      return withAdmin(db, async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`.execute(trx)
        const existing = await trx.selectFrom('adminUsers').select('id').limit(1).executeTakeFirst()
        if (existing) return null
        return trx
          .insertInto('adminUsers')
          .values({ username, passwordHash })
          .returning(['id', 'username', 'createdAt'])
          .executeTakeFirstOrThrow()
      })
    },

    /** True once any admin exists (a deployment that can no longer be claimed by bootstrap). */
    async anyAdmin(): Promise<boolean> {
      // Admin rows are visible only in an admin-context transaction (row-level security).
      return withAdmin(db, async (trx) =>
        Boolean(await trx.selectFrom('adminUsers').select('id').limit(1).executeTakeFirst()),
      )
    },

    async insertAdmin(username: string, passwordHash: string) {
      return withAdmin(db, (trx) =>
        trx
          .insertInto('adminUsers')
          .values({ username, passwordHash })
          .returning(['id', 'username', 'createdAt'])
          .executeTakeFirstOrThrow(),
      )
    },

    async findAdminByUsername(username: string): Promise<AdminRow | undefined> {
      return withAdmin(db, (trx) =>
        trx
          .selectFrom('adminUsers')
          .select(['id', 'username', 'passwordHash'])
          .where('username', '=', username)
          .executeTakeFirst(),
      )
    },

    async findAdmin(id: string) {
      return withAdmin(db, (trx) =>
        trx
          .selectFrom('adminUsers')
          .select(['id', 'username', 'createdAt'])
          .where('id', '=', id)
          .executeTakeFirst(),
      )
    },

    async updateAdminPasswordHash(id: string, passwordHash: string, now: Date) {
      await withAdmin(db, (trx) =>
        trx
          .updateTable('adminUsers')
          .set({ passwordHash, updatedAt: now })
          .where('id', '=', id)
          .execute(),
      )
    },

    async insertAdminSession(s: {
      adminId: string
      tokenHash: Buffer
      now: Date
      expiresAt: Date
    }) {
      await withAdmin(db, (trx) =>
        trx
          .insertInto('adminSessions')
          .values({
            adminId: s.adminId,
            tokenHash: s.tokenHash,
            createdAt: s.now,
            lastSeenAt: s.now,
            expiresAt: s.expiresAt,
          })
          .execute(),
      )
    },

    /** The session a cookie names, with its admin. */
    async findAdminSessionByTokenHash(tokenHash: Buffer): Promise<AdminSessionRow | undefined> {
      return withAdmin(db, (trx) =>
        trx
          .selectFrom('adminSessions as s')
          .innerJoin('adminUsers as u', 'u.id', 's.adminId')
          .select(['s.id', 's.adminId', 'u.username', 's.lastSeenAt', 's.expiresAt', 's.revokedAt'])
          .where('s.tokenHash', '=', tokenHash)
          .executeTakeFirst(),
      )
    },

    async touchAdminSession(id: string, now: Date) {
      await withAdmin(db, (trx) =>
        trx.updateTable('adminSessions').set({ lastSeenAt: now }).where('id', '=', id).execute(),
      )
    },

    async revokeAdminSessionByTokenHash(tokenHash: Buffer, now: Date) {
      await withAdmin(db, (trx) =>
        trx
          .updateTable('adminSessions')
          .set({ revokedAt: now })
          .where('tokenHash', '=', tokenHash)
          .where('revokedAt', 'is', null)
          .execute(),
      )
    },
  }
}

export type AdminRepository = ReturnType<typeof createAdminRepository>
