import { sql, withTenant, type Database, type Tx } from '@xeno/db'

export type ComplianceTopic = 'customers/data_request' | 'customers/redact' | 'shop/redact'

/** All SQL of the mandatory compliance topics. */
export function createComplianceRepository(db: Database) {
  return {
    /** Records a request once per webhook id; false when it was already recorded. */
    async record(
      trx: Tx,
      r: {
        tenantId: string
        webhookId: string
        topic: ComplianceTopic
        shopDomain: string
        customerId: string | null
        shopifyRequestId: string | null
      },
    ): Promise<{ id: string; created: boolean }> {
      const inserted = await trx
        .insertInto('complianceRequests')
        .values(r)
        .onConflict((oc) => oc.columns(['tenantId', 'webhookId']).doNothing())
        .returning('id')
        .executeTakeFirst()
      if (inserted) return { id: inserted.id, created: true }
      const existing = await trx
        .selectFrom('complianceRequests')
        .select('id')
        .where('tenantId', '=', r.tenantId)
        .where('webhookId', '=', r.webhookId)
        .executeTakeFirstOrThrow()
      return { id: existing.id, created: false }
    },

    async complete(trx: Tx, tenantId: string, id: string, summary: object, exported?: object) {
      await trx
        .updateTable('complianceRequests')
        .set({
          summary: JSON.stringify(summary),
          export: exported === undefined ? null : JSON.stringify(exported),
          completedAt: new Date(),
        })
        .where('tenantId', '=', tenantId)
        .where('id', '=', id)
        .execute()
    },

    /** Everything Xeno holds on one customer: profile, their orders with items and refunds, events. */
    async exportCustomer(trx: Tx, tenantId: string, customerId: string, orderIds: string[]) {
      const customer = await sql<Record<string, unknown>>`
        SELECT id, email, first_name, last_name, phone, state, tags, number_of_orders, amount_spent,
          created_at, updated_at, deleted_at, redacted_at
        FROM customers WHERE tenant_id = ${tenantId} AND id = ${customerId}`.execute(trx)
      const orders = await sql<Record<string, unknown>>`
        SELECT o.id, o.name, o.email, o.currency, o.total_price, o.financial_status,
          o.fulfillment_status, o.processed_at, o.cancelled_at, o.created_at, o.updated_at,
          coalesce((SELECT json_agg(json_build_object('id', li.id, 'title', li.title, 'sku', li.sku,
            'quantity', li.quantity, 'unit_price', li.unit_price) ORDER BY li.id)
            FROM order_line_items li WHERE li.tenant_id = o.tenant_id AND li.order_id = o.id), '[]') AS line_items,
          coalesce((SELECT json_agg(json_build_object('id', r.id, 'amount', r.amount,
            'created_at', r.created_at) ORDER BY r.id)
            FROM refunds r WHERE r.tenant_id = o.tenant_id AND r.order_id = o.id), '[]') AS refunds
        FROM orders o
        WHERE o.tenant_id = ${tenantId}
          AND (o.customer_id = ${customerId} OR o.id = ANY(${orderIds}::bigint[]))
        ORDER BY o.id`.execute(trx)
      const events = await sql<Record<string, unknown>>`
        SELECT id, event_type, occurred_at, session_id, properties
        FROM custom_events WHERE tenant_id = ${tenantId} AND customer_id = ${customerId}
        ORDER BY occurred_at, id`.execute(trx)
      return { customer: customer.rows[0] ?? null, orders: orders.rows, events: events.rows }
    },

    /**
     * Erases a customer's personal data and keeps the anonymous facts aggregates need (ids,
     * amounts, dates): names, email, phone and tags on the customer; email on their orders;
     * session ids and properties on their events. `at` is the redaction time, a parameter rather
     * than now(): a distributed engine (Citus) refuses non-immutable functions in COALESCE of a
     * write.
     */
    async redactCustomer(
      trx: Tx,
      tenantId: string,
      customerId: string,
      orderIds: string[],
      at: Date,
    ) {
      const c = await sql`UPDATE customers SET email = NULL, first_name = NULL, last_name = NULL,
          phone = NULL, tags = '{}', redacted_at = coalesce(redacted_at, ${at}::timestamptz)
        WHERE tenant_id = ${tenantId} AND id = ${customerId}`.execute(trx)
      const o = await sql`UPDATE orders SET email = NULL
        WHERE tenant_id = ${tenantId}
          AND (customer_id = ${customerId} OR id = ANY(${orderIds}::bigint[]))`.execute(trx)
      const e = await sql`UPDATE custom_events SET properties = '{}'::jsonb, session_id = NULL
        WHERE tenant_id = ${tenantId} AND customer_id = ${customerId}`.execute(trx)
      return {
        customers: Number(c.numAffectedRows ?? 0),
        orders: Number(o.numAffectedRows ?? 0),
        events: Number(e.numAffectedRows ?? 0),
      }
    },

    /** shop/redact: the tenant row goes, and every table hanging off it with it (cascade). */
    async deleteTenantData(trx: Tx, tenantId: string): Promise<number> {
      const res = await trx.deleteFrom('tenants').where('id', '=', tenantId).executeTakeFirst()
      // Exports made for earlier data requests hold personal data too.
      await trx
        .updateTable('complianceRequests')
        .set({ export: null })
        .where('tenantId', '=', tenantId)
        .execute()
      return Number(res.numDeletedRows)
    },

    async list(tenantId: string, limit: number) {
      return withTenant(db, tenantId, (trx) =>
        trx
          .selectFrom('complianceRequests')
          .select([
            'id',
            'topic',
            'customerId',
            'shopifyRequestId',
            'summary',
            'createdAt',
            'completedAt',
          ])
          .where('tenantId', '=', tenantId)
          .orderBy('createdAt', 'desc')
          .limit(limit)
          .execute(),
      )
    },

    async get(tenantId: string, id: string) {
      return withTenant(db, tenantId, (trx) =>
        trx
          .selectFrom('complianceRequests')
          .selectAll()
          .where('tenantId', '=', tenantId)
          .where('id', '=', id)
          .executeTakeFirst(),
      )
    },
  }
}

export type ComplianceRepository = ReturnType<typeof createComplianceRepository>
