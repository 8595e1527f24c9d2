import { useEffect, useState } from 'preact/hooks'
import { type ApiError, post, type SyncRow } from '../api.ts'
import { ErrorBox, Panel, Progress } from '../components.tsx'
import { count, dateTime, duration } from '../format.ts'
import { useApi, useInterval } from '../hooks.ts'

const RUNNING = new Set(['running', 'bulk_running'])

/**
 * Progress of a backfill: the mean over the bulk resources of the roots read of Shopify's
 * expected count (a resource not started yet counts 0, one done without a bulk read 100), so
 * the bar only moves forward while the resources run side by side. Null before any bulk read.
 */
export function backfillPercent(rows: SyncRow[]): number | null {
  const resources = rows.filter((r) => r.resource !== 'shop')
  if (!resources.some((r) => r.bulk)) return null
  const each = resources.map((r) => {
    if (r.bulk) return r.bulk.percent ?? (r.bulk.running ? 0 : 100)
    return r.last_success_at && !RUNNING.has(r.state) ? 100 : 0
  })
  return Math.floor((each.reduce((a, p) => a + p, 0) / each.length) * 10) / 10
}

/** Sync state of one tenant: each resource, a live progress bar, and (owners) "sync now". */
export function SyncStatus(props: { tenantId: string; canTrigger: boolean; heading?: string }) {
  const status = useApi<SyncRow[]>(`/api/tenants/${props.tenantId}/sync-status`)
  const [triggered, setTriggered] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<ApiError | null>(null)
  const [full, setFull] = useState(false)
  const rows = status.data ?? []
  const active = rows.some((r) => RUNNING.has(r.state) || r.bulk?.running) || triggered !== null
  // Poll fast while something runs (or was just queued), slowly otherwise.
  useInterval(status.reload, active ? 1000 : 15_000, true)
  // A queued sync is followed until every resource has succeeded since it was queued.
  useEffect(() => {
    if (!triggered || rows.some((r) => RUNNING.has(r.state) || r.bulk?.running)) return
    const since = Date.parse(triggered) - 2000
    if (rows.every((r) => r.last_success_at && Date.parse(r.last_success_at) >= since))
      setTriggered(null)
  }, [status.data, triggered])
  const running = rows.some((r) => r.bulk?.running)
  const pct = backfillPercent(rows)

  const syncNow = async () => {
    setBusy(true)
    setError(null)
    try {
      await post(`/api/tenants/${props.tenantId}/ingest`, full ? { mode: 'full' } : {})
      setTriggered(new Date().toISOString())
      status.reload()
    } catch (e) {
      setError(e as ApiError)
    } finally {
      setBusy(false)
    }
  }

  return (
    <Panel
      id="sync"
      title={props.heading ?? 'Sync status'}
      subtitle="Shopify data copied into Xeno, per resource"
      load={status}
      isEmpty={(r) => r.length === 0}
      empty="This shop has never been synced."
      wide
      actions={
        props.canTrigger ? (
          <div class="actions">
            <label class="check">
              <input
                type="checkbox"
                checked={full}
                onChange={(e) => setFull(e.currentTarget.checked)}
              />
              Full re-read
            </label>
            <button
              type="button"
              onClick={() => void syncNow()}
              disabled={busy}
              data-action="sync-now"
            >
              {busy ? 'Queuing…' : 'Sync now'}
            </button>
          </div>
        ) : undefined
      }
    >
      {(r) => (
        <>
          {error && <ErrorBox error={error} />}
          {pct !== null && (
            <div class="backfill" data-backfill={running ? 'running' : 'done'}>
              <span class="label">{running ? 'Backfill in progress' : 'Last backfill'}</span>
              <Progress id="backfill-progress" value={pct} label="Backfill progress" />
            </div>
          )}
          {triggered && (
            <p class="muted small" role="status">
              Sync queued; this page follows its progress.
            </p>
          )}
          <div class="table-scroll" tabIndex={0}>
            <table class="list" data-table="sync">
              <caption class="sr-only">Sync state per resource</caption>
              <thead>
                <tr>
                  <th scope="col">Resource</th>
                  <th scope="col">State</th>
                  <th scope="col" class="num">
                    Rows
                  </th>
                  <th scope="col">Last success</th>
                  <th scope="col">Lag</th>
                  <th scope="col">Progress</th>
                </tr>
              </thead>
              <tbody>
                {r.map((x) => (
                  <tr key={x.resource} data-resource={x.resource} data-state={x.state}>
                    <th scope="row">{x.resource}</th>
                    <td>
                      <span class={`badge ${x.state}`}>{x.state.replace('_', ' ')}</span>
                      {x.last_error && (
                        <span class="small error-text" title={x.last_error}>
                          {' '}
                          {x.last_error.slice(0, 80)}
                        </span>
                      )}
                    </td>
                    <td class="num">{count(x.rows_synced)}</td>
                    <td>{dateTime(x.last_success_at)}</td>
                    <td>{duration(x.lag_seconds)}</td>
                    <td>
                      {x.bulk ? (
                        <Progress
                          value={x.bulk.percent}
                          label={`${x.resource} backfill progress`}
                        />
                      ) : (
                        <span class="muted small">
                          {x.next_run_at ? `next ${dateTime(x.next_run_at)}` : '—'}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </Panel>
  )
}
