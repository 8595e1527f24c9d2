import { sql, type Kysely } from 'kysely'

// The inbox's size per status, kept by statement-level triggers on webhook_receipts, so the
// metrics exporter reads a few rows instead of counting the whole inbox on every scrape.
// Counts are split over 16 shards picked by the writing backend: concurrent intake
// transactions (each holds its counter row until it commits) mostly touch different rows, and
// one statement updates its rows in status order, so two writers cannot deadlock on them.
// A reader sums the shards. Not a tenant table: it holds fleet-wide totals and no tenant data.
//
// Processed and skipped receipts older than the retention are deleted by the maintenance queue;
// the partial index on processed_at keeps each batch an index range scan.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE webhook_receipt_counts (
      status text NOT NULL,
      shard smallint NOT NULL,
      count bigint NOT NULL DEFAULT 0,
      PRIMARY KEY (status, shard)
    )`.execute(db)
  await sql`
    CREATE FUNCTION webhook_receipt_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      v_shard smallint := (pg_backend_pid() % 16)::smallint;
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO webhook_receipt_counts AS c (status, shard, count)
          SELECT n.status, v_shard, count(*) FROM new_rows n GROUP BY n.status ORDER BY n.status
          ON CONFLICT (status, shard) DO UPDATE SET count = c.count + excluded.count;
      ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO webhook_receipt_counts AS c (status, shard, count)
          SELECT o.status, v_shard, -count(*) FROM old_rows o GROUP BY o.status ORDER BY o.status
          ON CONFLICT (status, shard) DO UPDATE SET count = c.count + excluded.count;
      ELSE
        INSERT INTO webhook_receipt_counts AS c (status, shard, count)
          SELECT d.status, v_shard, sum(d.delta) FROM (
            SELECT n.status, 1 AS delta FROM new_rows n
            UNION ALL
            SELECT o.status, -1 AS delta FROM old_rows o
          ) d
          GROUP BY d.status HAVING sum(d.delta) <> 0 ORDER BY d.status
          ON CONFLICT (status, shard) DO UPDATE SET count = c.count + excluded.count;
      END IF;
      RETURN NULL;
    END $$`.execute(db)
  // Transition tables allow one event per trigger: three triggers on one function.
  await sql`
    CREATE TRIGGER webhook_receipt_counts_insert AFTER INSERT ON webhook_receipts
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_receipt_counts_apply()`.execute(db)
  await sql`
    CREATE TRIGGER webhook_receipt_counts_update AFTER UPDATE ON webhook_receipts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_receipt_counts_apply()`.execute(db)
  await sql`
    CREATE TRIGGER webhook_receipt_counts_delete AFTER DELETE ON webhook_receipts
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_receipt_counts_apply()`.execute(db)
  // Existing rows, counted once (the triggers keep the totals from here on).
  await sql`
    INSERT INTO webhook_receipt_counts (status, shard, count)
    SELECT status, 0, count(*) FROM webhook_receipts GROUP BY status`.execute(db)
  await sql`
    CREATE INDEX webhook_receipts_prunable_idx ON webhook_receipts (processed_at)
    WHERE status IN ('processed', 'skipped')`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX webhook_receipts_prunable_idx`.execute(db)
  await sql`DROP TRIGGER webhook_receipt_counts_delete ON webhook_receipts`.execute(db)
  await sql`DROP TRIGGER webhook_receipt_counts_update ON webhook_receipts`.execute(db)
  await sql`DROP TRIGGER webhook_receipt_counts_insert ON webhook_receipts`.execute(db)
  await sql`DROP FUNCTION webhook_receipt_counts_apply()`.execute(db)
  await sql`DROP TABLE webhook_receipt_counts`.execute(db)
}
