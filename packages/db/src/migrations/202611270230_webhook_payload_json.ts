import { sql, type Kysely } from 'kysely'

// webhook_receipts.payload becomes `json`: the body exactly as Shopify sent it (the bytes the
// HMAC was computed over, key order and number spelling kept), checked for JSON syntax but not
// decomposed. Nothing queries inside it (the worker reads payload::text and parses it with
// parseShopifyJson to keep 64-bit ids exact), and parsing into jsonb was the largest Postgres
// cost left on the intake's hot path: 0.28 ms a row for a 15 KB order with lz4, 0.08–0.17 ms
// as json. (A departure from DESIGN §3, which says jsonb.) Existing rows are rewritten once.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE webhook_receipts ALTER COLUMN payload TYPE json USING payload::text::json`.execute(
    db,
  )
  await sql`
    DO $$
    BEGIN
      EXECUTE 'ALTER TABLE webhook_receipts ALTER COLUMN payload SET COMPRESSION lz4';
    EXCEPTION WHEN feature_not_supported THEN
      RAISE NOTICE 'Postgres built without lz4: webhook_receipts.payload stays pglz';
    END $$`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  // A stored body jsonb refuses (a \u0000 escape) makes the rollback fail loudly, not alter it.
  await sql`ALTER TABLE webhook_receipts ALTER COLUMN payload TYPE jsonb USING payload::jsonb`.execute(
    db,
  )
}
