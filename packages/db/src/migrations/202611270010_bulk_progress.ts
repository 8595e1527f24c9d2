import type { Kysely } from 'kysely'

// Bulk progress as a percentage: Shopify reports `rootObjectCount` (orders, customers or products
// processed so far; `objectCount` also counts line items), and before starting the operation the
// sync asks Shopify how many roots there are (`ordersCount(limit: null)` and friends). Both stay
// after the operation ends, so sync-status can show the last backfill's result too.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('sync_checkpoints')
    .addColumn('bulk_root_object_count', 'bigint')
    .addColumn('bulk_expected_count', 'bigint')
    .execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('sync_checkpoints')
    .dropColumn('bulk_root_object_count')
    .dropColumn('bulk_expected_count')
    .execute()
}
