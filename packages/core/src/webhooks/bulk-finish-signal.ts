import pg from 'pg'
import type { Logger } from '@xeno/logger'

const CHANNEL = 'xeno_bulk_finished'

/**
 * Carries bulk_operations/finish from whichever worker processed the webhook to whichever worker
 * waits on that operation, through Postgres LISTEN/NOTIFY (no extra infrastructure). Waiting is
 * an optimisation: the backfill polls as well, so a lost notification only costs a poll period.
 */
export function createBulkFinishSignal(deps: { databaseUrl: string; logger: Logger }) {
  const waiters = new Map<string, Set<() => void>>()
  let client: pg.Client | undefined
  let connecting: Promise<void> | undefined
  let closed = false

  async function listen(): Promise<void> {
    if (client || closed) return
    connecting ??= (async () => {
      const c = new pg.Client({
        connectionString: deps.databaseUrl,
        application_name: 'xeno-bulk-listener',
      })
      c.on('notification', (msg) => {
        if (msg.channel !== CHANNEL || !msg.payload) return
        const set = waiters.get(msg.payload)
        if (!set) return
        waiters.delete(msg.payload)
        for (const resolve of set) resolve()
      })
      c.on('error', (err) => {
        deps.logger.warn(
          { err: { message: err.message } },
          'bulk finish listener lost its connection',
        )
        client = undefined
        connecting = undefined
      })
      await c.connect()
      await c.query(`LISTEN ${CHANNEL}`)
      client = c
    })().finally(() => {
      connecting = undefined
    })
    await connecting
  }

  return {
    /** Resolves when a finish notification for the operation arrives. */
    async waitFor(operationGid: string): Promise<void> {
      await listen().catch((err: Error) =>
        deps.logger.warn(
          { err: { message: err.message } },
          'bulk finish listener unavailable; polling only',
        ),
      )
      return new Promise<void>((resolve) => {
        let set = waiters.get(operationGid)
        if (!set) waiters.set(operationGid, (set = new Set()))
        set.add(resolve)
      })
    },
    /** Announces a finished operation to every listening worker. */
    async notify(
      operationGid: string,
      db: { query: (text: string, params: unknown[]) => Promise<unknown> },
    ): Promise<void> {
      await db.query('SELECT pg_notify($1, $2)', [CHANNEL, operationGid])
    },
    async close(): Promise<void> {
      closed = true
      await client?.end().catch(() => {})
      client = undefined
    },
  }
}

export type BulkFinishSignal = ReturnType<typeof createBulkFinishSignal>
