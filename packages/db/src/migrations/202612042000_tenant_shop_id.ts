import { sql, type Kysely } from 'kysely'

// The Shopify shop id (the numeric id of `shop { id }`) is the one fact a compliance or
// app/uninstalled body carries that a captured body of another shop cannot fake: the HMAC covers
// the body, and the body names its shop by id. Filled by the install and the shop sync; null
// until the first of them ran for a tenant created before this column existed.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE tenants ADD COLUMN shopify_shop_id bigint`.execute(db)
  // The maintenance sweep deletes expired states by expires_at; without an index every sweep
  // (and the live-state count that caps anonymous installs) reads the whole table.
  await sql`CREATE INDEX oauth_states_expires_at_idx ON oauth_states (expires_at)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX oauth_states_expires_at_idx`.execute(db)
  await sql`ALTER TABLE tenants DROP COLUMN shopify_shop_id`.execute(db)
}
