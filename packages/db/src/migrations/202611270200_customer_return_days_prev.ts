import { sql, type Kysely } from 'kysely'

// Repeat buyers of a range that starts early (two years on the bench's big tenant): few pairs have
// a previous order day before it, but the (day, prev_day) key reads every pair of the range.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX customer_return_days_prev_idx ON customer_return_days
    (tenant_id, prev_day, day) INCLUDE (customers)`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX customer_return_days_prev_idx`.execute(db)
}
