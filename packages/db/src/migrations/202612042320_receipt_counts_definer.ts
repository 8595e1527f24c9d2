import { sql, type Kysely } from 'kysely'

// The inbox counter trigger runs in whatever role changed webhook_receipts: the runtime role at
// intake, but also the definer role inside the admin replay function, which may not write the
// counter table. As the owner's function (fixed search_path), the counts are kept whoever writes.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER FUNCTION webhook_receipt_counts_apply()
    SECURITY DEFINER SET search_path = public, pg_temp`.execute(db)
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER FUNCTION webhook_receipt_counts_apply() SECURITY INVOKER RESET search_path`.execute(
    db,
  )
}
