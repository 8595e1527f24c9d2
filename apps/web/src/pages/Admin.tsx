import { useState } from 'preact/hooks'
import { type ApiError, get, post, type OAuthConfig, type Receipt, type Tenant } from '../api.ts'
import { ErrorBox, Panel } from '../components.tsx'
import { dateTime } from '../format.ts'
import { useApi, useInterval } from '../hooks.ts'
import { onLinkClick, setQuery, type Location } from '../router.ts'
import { SyncStatus } from './Sync.tsx'

/** Tenants with their status, an install link for a shop, and the chosen tenant's sync state. */
export function AdminTenants(props: { loc: Location }) {
  const [cursor, setCursor] = useState<string | null>(null)
  const tenants = useApi<Tenant[]>(
    `/api/tenants?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
  )
  const selected = props.loc.query.get('tenant')
  const [shop, setShop] = useState('')
  const installUrl = shop.trim()
    ? `${window.location.origin}/api/shopify/install?shop=${encodeURIComponent(shop.trim())}`
    : null

  return (
    <>
      <div class="page-head">
        <h1>Tenants</h1>
      </div>
      <div class="grid">
        <Panel
          id="tenants"
          title="Tenants"
          subtitle="Every connected shop and its status"
          load={tenants}
          isEmpty={(t) => t.length === 0 && !cursor}
          empty="No tenant yet: send a merchant an install link."
          wide
        >
          {(list) => (
            <>
              <div class="table-scroll" tabIndex={0}>
                <table class="list" data-table="tenants">
                  <caption class="sr-only">Tenants</caption>
                  <thead>
                    <tr>
                      <th scope="col">Shop</th>
                      <th scope="col">Status</th>
                      <th scope="col">Zone · currency</th>
                      <th scope="col">Installed</th>
                      <th scope="col">
                        <span class="sr-only">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((t) => (
                      <tr
                        key={t.id}
                        data-tenant-id={t.id}
                        aria-current={selected === t.id ? 'true' : undefined}
                      >
                        <th scope="row">
                          {t.shop_name ?? t.shop_domain}
                          <div class="muted small">{t.shop_domain}</div>
                        </th>
                        <td>
                          <span class={`badge ${t.status}`}>{t.status}</span>
                        </td>
                        <td>
                          {t.iana_timezone} · {t.currency}
                        </td>
                        <td>{dateTime(t.installed_at)}</td>
                        <td>
                          <div class="actions">
                            <button
                              type="button"
                              class="secondary"
                              onClick={() => setQuery({ tenant: t.id })}
                              aria-label={`Sync state of ${t.shop_domain}`}
                            >
                              Sync state
                            </button>
                            <a
                              class="button secondary"
                              href={`/app/overview?tenant=${t.id}`}
                              onClick={onLinkClick}
                            >
                              Dashboard
                            </a>
                          </div>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <NextPage
                count={list.length}
                onNext={() => list.length && setCursor(list[list.length - 1]!.id)}
                onFirst={cursor ? () => setCursor(null) : undefined}
              />
            </>
          )}
        </Panel>

        {selected && (
          <SyncStatus
            key={selected}
            tenantId={selected}
            canTrigger
            heading="Sync state of the selected tenant"
          />
        )}

        <section class="panel" aria-labelledby="install-title">
          <header class="panel-head">
            <h2 id="install-title">Install link</h2>
          </header>
          <p class="muted small">
            The merchant opens this link to install the app on their Shopify store (OAuth).
          </p>
          <form class="inline-form" onSubmit={(e) => e.preventDefault()}>
            <label class="grow">
              <span class="label">Shop</span>
              <input
                name="shop"
                placeholder="their-store or their-store.myshopify.com"
                value={shop}
                onInput={(e) => setShop(e.currentTarget.value)}
              />
            </label>
          </form>
          {installUrl && (
            <p class="install-link">
              <a href={installUrl} data-install-link>
                {installUrl}
              </a>
            </p>
          )}
        </section>
      </div>
    </>
  )
}

function NextPage(props: { count: number; onNext: () => void; onFirst?: () => void }) {
  if (props.count < 50 && !props.onFirst) return null
  return (
    <div class="actions pager">
      {props.onFirst && (
        <button type="button" class="secondary" onClick={props.onFirst}>
          First page
        </button>
      )}
      {props.count >= 50 && (
        <button type="button" class="secondary" onClick={props.onNext}>
          Next page
        </button>
      )}
    </div>
  )
}

type Replayed = { receipt: Receipt; status: string; error?: string }
const FINAL = new Set(['processed', 'skipped', 'failed'])

/** The webhook inbox's failed receipts, each with "replay"; a replayed one is followed to its end. */
export function AdminWebhooks() {
  const failed = useApi<Receipt[]>('/api/admin/webhooks?status=failed&limit=100')
  const [replayed, setReplayed] = useState<Record<string, Replayed>>({})
  const [error, setError] = useState<ApiError | null>(null)
  const pending = Object.values(replayed).filter(
    (r) => !FINAL.has(r.status) || r.status === 'replaying',
  )

  useInterval(
    () => {
      for (const r of pending)
        get<Receipt>(`/api/admin/webhooks/${r.receipt.id}`).then(
          (x) =>
            setReplayed((all) => ({
              ...all,
              [x.id]: { receipt: x, status: x.status, error: x.last_error ?? undefined },
            })),
          () => {},
        )
    },
    1000,
    pending.length > 0,
  )

  const replay = async (r: Receipt) => {
    setError(null)
    setReplayed((all) => ({ ...all, [r.id]: { receipt: r, status: 'replaying' } }))
    try {
      await post(`/api/admin/webhooks/${r.id}/replay`)
      setReplayed((all) => ({ ...all, [r.id]: { receipt: r, status: 'received' } }))
    } catch (e) {
      setError(e as ApiError)
      setReplayed((all) => {
        const { [r.id]: _gone, ...rest } = all
        return rest
      })
    }
  }

  const rows = [
    ...Object.values(replayed).map((x) => x.receipt),
    ...(failed.data ?? []).filter((r) => !replayed[r.id]),
  ]

  return (
    <>
      <div class="page-head">
        <h1>Webhook inbox</h1>
      </div>
      <Panel
        id="receipts"
        title="Failed receipts"
        subtitle="Deliveries whose processing kept failing; replay puts one back in the queue"
        load={failed}
        isEmpty={() => rows.length === 0}
        empty="No failed receipt: every delivery was applied."
        wide
        actions={
          <button type="button" class="secondary" onClick={failed.reload}>
            Refresh
          </button>
        }
      >
        {() => (
          <>
            {error && <ErrorBox error={error} />}
            <div class="table-scroll" tabIndex={0}>
              <table class="list" data-table="receipts">
                <caption class="sr-only">Failed webhook receipts</caption>
                <thead>
                  <tr>
                    <th scope="col">Topic</th>
                    <th scope="col">Shop</th>
                    <th scope="col">Received</th>
                    <th scope="col" class="num">
                      Attempts
                    </th>
                    <th scope="col">Last error</th>
                    <th scope="col">State</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => {
                    const rp = replayed[r.id]
                    const state = rp?.status ?? r.status
                    return (
                      <tr key={r.id} data-receipt-id={r.id} data-status={state}>
                        <th scope="row">
                          <code>{r.topic}</code>
                        </th>
                        <td>{r.shop_domain}</td>
                        <td>{dateTime(r.received_at)}</td>
                        <td class="num">{rp?.receipt.attempts ?? r.attempts}</td>
                        <td class="small error-text">
                          {(rp ? rp.error : r.last_error)?.slice(0, 160) ?? '—'}
                        </td>
                        <td>
                          {state === 'failed' && !rp ? (
                            <button
                              type="button"
                              onClick={() => void replay(r)}
                              data-action="replay"
                              aria-label={`Replay ${r.topic} receipt of ${r.shop_domain}`}
                            >
                              Replay
                            </button>
                          ) : (
                            <span class={`badge ${state}`} role="status">
                              {state === 'received' ? 'queued' : state}
                            </span>
                          )}
                        </td>
                      </tr>
                    )
                  })}
                </tbody>
              </table>
            </div>
          </>
        )}
      </Panel>
    </>
  )
}

/** GET /api/debug/oauth-config: the effective OAuth settings and the checks they fail. */
export function AdminOAuth() {
  const cfg = useApi<OAuthConfig>('/api/debug/oauth-config')
  return (
    <>
      <div class="page-head">
        <h1>Shopify OAuth configuration</h1>
      </div>
      <div class="grid">
        <Panel
          id="oauth-checks"
          title="Checks"
          subtitle="What a misconfigured app fails"
          load={cfg}
          isEmpty={(c) => c.checks.length === 0}
          empty="No checks reported."
        >
          {(c) => (
            <ul class="checks">
              {c.checks.map((x) => (
                <li
                  key={x.check}
                  class={x.ok ? 'ok' : 'fail'}
                  data-check={x.check}
                  data-ok={String(x.ok)}
                >
                  <span aria-hidden="true">{x.ok ? '✔' : '✖'}</span>
                  <div>
                    <strong>{x.check}</strong>{' '}
                    <span class="sr-only">{x.ok ? 'passes' : 'fails'}</span>
                    <div class="small muted">{x.detail}</div>
                  </div>
                </li>
              ))}
            </ul>
          )}
        </Panel>
        <Panel
          id="oauth-config"
          title="Effective configuration"
          subtitle="Secrets redacted"
          load={cfg}
        >
          {(c) => (
            <dl class="config">
              {Object.entries(c.config).map(([k, v]) => (
                <div key={k}>
                  <dt>{k}</dt>
                  <dd>
                    <code>{v ?? '—'}</code>
                  </dd>
                </div>
              ))}
            </dl>
          )}
        </Panel>
      </div>
    </>
  )
}
