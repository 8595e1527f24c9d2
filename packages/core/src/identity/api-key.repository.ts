import { sql, withTenant, type Database } from '@xeno/db'

const PUBLIC_COLUMNS = ['id', 'prefix', 'label', 'createdAt', 'lastUsedAt', 'revokedAt'] as const

/** All SQL on api_keys. */
export function createApiKeyRepository(db: Database) {
  return {
    async insertApiKey(
      tenantId: string,
      k: { prefix: string; keyHash: Buffer; label: string; now: Date },
    ) {
      return withTenant(db, tenantId, (trx) =>
        trx
          .insertInto('apiKeys')
          .values({
            tenantId,
            prefix: k.prefix,
            keyHash: k.keyHash,
            label: k.label,
            createdAt: k.now,
          })
          .returning(PUBLIC_COLUMNS)
          .executeTakeFirstOrThrow(),
      )
    },

    async listApiKeys(tenantId: string) {
      return withTenant(db, tenantId, (trx) =>
        trx
          .selectFrom('apiKeys')
          .select(PUBLIC_COLUMNS)
          .where('tenantId', '=', tenantId)
          .orderBy('createdAt')
          .orderBy('id')
          .execute(),
      )
    },

    /** Revokes a key; idempotent. Undefined when the tenant has no such key. */
    async revokeApiKey(tenantId: string, keyId: string, now: Date) {
      return withTenant(db, tenantId, async (trx) => {
        await trx
          .updateTable('apiKeys')
          .set({ revokedAt: now })
          .where('tenantId', '=', tenantId)
          .where('id', '=', keyId)
          .where('revokedAt', 'is', null)
          .execute()
        return trx
          .selectFrom('apiKeys')
          .select(PUBLIC_COLUMNS)
          .where('tenantId', '=', tenantId)
          .where('id', '=', keyId)
          .executeTakeFirst()
      })
    },

    /** Resolves an X-API-Key (by its HMAC) before its tenant is known. */
    async findApiKeyByHash(keyHash: Buffer) {
      const { rows } = await sql<{
        id: string
        tenantId: string
        lastUsedAt: Date | null
        revokedAt: Date | null
      }>`SELECT id, tenant_id, last_used_at, revoked_at FROM app_api_key_by_hash(${keyHash})`.execute(
        db,
      )
      return rows[0]
    },

    async touchApiKey(tenantId: string, keyId: string, now: Date) {
      await withTenant(db, tenantId, (trx) =>
        trx
          .updateTable('apiKeys')
          .set({ lastUsedAt: now })
          .where('tenantId', '=', tenantId)
          .where('id', '=', keyId)
          .execute(),
      )
    },
  }
}

export type ApiKeyRepository = ReturnType<typeof createApiKeyRepository>
