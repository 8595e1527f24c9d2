import { sql, type Tx } from '@xeno/db'

/** A custom event ready to store; `bodyHash` identifies its content for idempotency. */
export type EventRow = {
  eventType: string
  occurredAt: string
  customerId: string | null
  sessionId: string | null
  properties: Record<string, unknown>
  idempotencyKey: string | null
  bodyHash: string
}

/**
 * Inserts events under the ids given; a row whose idempotency key this tenant already stored
 * is skipped. Returns the ids actually stored.
 */
export async function insertEvents(
  trx: Tx,
  tenantId: string,
  rows: (EventRow & { id: string })[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set()
  const payload = rows.map((r) => ({
    id: r.id,
    event_type: r.eventType,
    occurred_at: r.occurredAt,
    customer_id: r.customerId,
    session_id: r.sessionId,
    properties: r.properties,
    idempotency_key: r.idempotencyKey,
    body_hash: r.bodyHash,
  }))
  const { rows: stored } = await sql<{ id: string }>`
    INSERT INTO custom_events (tenant_id, id, event_type, occurred_at, customer_id, session_id,
      properties, idempotency_key, body_hash)
    SELECT ${tenantId}::uuid, id, event_type, occurred_at, customer_id, session_id, properties,
      idempotency_key, body_hash
    FROM jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) AS x(
      id uuid, event_type text, occurred_at timestamptz, customer_id bigint, session_id text,
      properties jsonb, idempotency_key text, body_hash text)
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
    RETURNING id`.execute(trx)
  return new Set(stored.map((r) => r.id))
}

/** Body hashes and ids already stored under some idempotency keys. */
export async function findByKeys(
  trx: Tx,
  tenantId: string,
  keys: string[],
): Promise<Map<string, { id: string; bodyHash: string | null }>> {
  if (keys.length === 0) return new Map()
  const rows = await trx
    .selectFrom('customEvents')
    .select(['id', 'idempotencyKey', 'bodyHash'])
    .where('tenantId', '=', tenantId)
    .where('idempotencyKey', 'in', keys)
    .execute()
  return new Map(rows.map((r) => [r.idempotencyKey!, { id: r.id, bodyHash: r.bodyHash }]))
}
