import { sql, type Kysely } from 'kysely'

// A bulk backfill that outlives a worker restart needs, besides the operation id: which mode
// started it (full or reconcile) and when, by our clock, so the deletion sweep only marks rows
// that were last written before the snapshot began.
// The check is named (with the name PostgreSQL gave it when it was unnamed, so databases migrated
// before and after agree): on an already distributed table Citus needs the name to add it to
// every shard.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('sync_checkpoints')
    .addColumn('bulk_mode', 'text')
    .addColumn('bulk_started_at', 'timestamptz')
    .addColumn('run_id', 'uuid')
    .execute()
  await db.schema
    .alterTable('sync_checkpoints')
    .addCheckConstraint('sync_checkpoints_bulk_mode_check', sql`bulk_mode IN ('full','reconcile')`)
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('sync_checkpoints')
    .dropColumn('bulk_mode')
    .dropColumn('bulk_started_at')
    .dropColumn('run_id')
    .execute()
}
