import { useState } from 'preact/hooks'
import { type ApiError, del, post, type ApiKey, type User } from '../api.ts'
import { ErrorBox, Panel } from '../components.tsx'
import { dateTime } from '../format.ts'
import { useApi } from '../hooks.ts'

function fieldErrors(e: ApiError | null): string | null {
  if (!e) return null
  return e.fields?.length
    ? e.fields.map((f) => `${f.field.replace(/^body\./, '')}: ${f.message}`).join('; ')
    : e.message
}

/** Owners: the tenant's users (create) and API keys (create, shown once; revoke). */
export function Team(props: { tenantId: string }) {
  const base = `/api/tenants/${props.tenantId}`
  const users = useApi<User[]>(`${base}/users`)
  const keys = useApi<ApiKey[]>(`${base}/api-keys`)

  const [user, setUser] = useState({ username: '', password: '', role: 'viewer' })
  const [userErr, setUserErr] = useState<ApiError | null>(null)
  const [userMsg, setUserMsg] = useState<string | null>(null)
  const createUser = async (e: Event) => {
    e.preventDefault()
    setUserErr(null)
    try {
      const u = await post<User>(`${base}/users`, user)
      setUserMsg(`User ${u.username} created.`)
      setUser({ username: '', password: '', role: 'viewer' })
      users.reload()
    } catch (err) {
      setUserErr(err as ApiError)
      setUserMsg(null)
    }
  }

  const [label, setLabel] = useState('')
  const [created, setCreated] = useState<{ key: string; label: string } | null>(null)
  const [copied, setCopied] = useState(false)
  const [keyErr, setKeyErr] = useState<ApiError | null>(null)
  const [confirming, setConfirming] = useState<string | null>(null)
  const createKey = async (e: Event) => {
    e.preventDefault()
    setKeyErr(null)
    setCopied(false)
    try {
      const k = await post<ApiKey & { key: string }>(`${base}/api-keys`, { label })
      setCreated({ key: k.key, label: k.label })
      setLabel('')
      keys.reload()
    } catch (err) {
      setKeyErr(err as ApiError)
    }
  }
  const revoke = async (id: string) => {
    setKeyErr(null)
    try {
      await del(`${base}/api-keys/${id}`)
      setConfirming(null)
      keys.reload()
    } catch (err) {
      setKeyErr(err as ApiError)
    }
  }
  const copy = async () => {
    if (!created) return
    try {
      await navigator.clipboard.writeText(created.key)
      setCopied(true)
    } catch {
      // No clipboard permission: the key is selected for a manual copy instead.
      ;(document.getElementById('new-key') as HTMLInputElement | null)?.select()
    }
  }

  return (
    <>
      <div class="page-head">
        <h1>Team and API keys</h1>
      </div>
      <div class="grid">
        <Panel
          id="api-keys"
          title="API keys"
          subtitle="Keys read analytics and send custom events (POST /api/events)"
          load={keys}
          wide
        >
          {(list) => (
            <>
              <form class="inline-form" onSubmit={(e) => void createKey(e)}>
                <label>
                  <span class="label">Label</span>
                  <input
                    name="label"
                    value={label}
                    maxLength={100}
                    placeholder="e.g. storefront events"
                    onInput={(e) => setLabel(e.currentTarget.value)}
                  />
                </label>
                <button type="submit" data-action="create-key">
                  Create key
                </button>
              </form>
              {keyErr && <ErrorBox error={keyErr} />}
              {created && (
                <div class="new-key" role="status" data-new-key>
                  <p>
                    <strong>Copy the key “{created.label || 'unlabelled'}” now:</strong> it is shown
                    only once.
                  </p>
                  <div class="inline-form">
                    <label class="grow">
                      <span class="sr-only">New API key</span>
                      <input
                        id="new-key"
                        readOnly
                        value={created.key}
                        onFocus={(e) => e.currentTarget.select()}
                      />
                    </label>
                    <button type="button" onClick={() => void copy()}>
                      {copied ? 'Copied' : 'Copy'}
                    </button>
                    <button type="button" class="secondary" onClick={() => setCreated(null)}>
                      Done
                    </button>
                  </div>
                </div>
              )}
              {list.length === 0 ? (
                <p class="empty">No API key yet.</p>
              ) : (
                <div class="table-scroll" tabIndex={0}>
                  <table class="list" data-table="api-keys">
                    <caption class="sr-only">API keys</caption>
                    <thead>
                      <tr>
                        <th scope="col">Label</th>
                        <th scope="col">Key</th>
                        <th scope="col">Created</th>
                        <th scope="col">Last used</th>
                        <th scope="col">State</th>
                      </tr>
                    </thead>
                    <tbody>
                      {list.map((k) => (
                        <tr
                          key={k.id}
                          data-key-id={k.id}
                          data-revoked={k.revoked_at ? 'true' : 'false'}
                        >
                          <th scope="row">{k.label || <span class="muted">unlabelled</span>}</th>
                          <td>
                            <code>{k.prefix}…</code>
                          </td>
                          <td>{dateTime(k.created_at)}</td>
                          <td>{dateTime(k.last_used_at)}</td>
                          <td>
                            {k.revoked_at ? (
                              <span class="badge stopped">revoked {dateTime(k.revoked_at)}</span>
                            ) : confirming === k.id ? (
                              <span class="actions">
                                <button
                                  type="button"
                                  class="danger"
                                  onClick={() => void revoke(k.id)}
                                  data-action="confirm-revoke"
                                >
                                  Revoke now
                                </button>
                                <button
                                  type="button"
                                  class="secondary"
                                  onClick={() => setConfirming(null)}
                                >
                                  Keep
                                </button>
                              </span>
                            ) : (
                              <button
                                type="button"
                                class="secondary"
                                onClick={() => setConfirming(k.id)}
                                data-action="revoke"
                                aria-label={`Revoke key ${k.label || k.prefix}`}
                              >
                                Revoke
                              </button>
                            )}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
            </>
          )}
        </Panel>

        <Panel
          id="users"
          title="Users"
          subtitle="Owners manage users, keys and syncs; viewers read"
          load={users}
          wide
        >
          {(list) => (
            <>
              <form class="inline-form" onSubmit={(e) => void createUser(e)}>
                <label>
                  <span class="label">Username</span>
                  <input
                    name="username"
                    required
                    autoComplete="off"
                    value={user.username}
                    onInput={(e) => setUser({ ...user, username: e.currentTarget.value })}
                  />
                </label>
                <label>
                  <span class="label">Password (10+ characters)</span>
                  <input
                    name="password"
                    type="password"
                    required
                    minLength={10}
                    autoComplete="new-password"
                    value={user.password}
                    onInput={(e) => setUser({ ...user, password: e.currentTarget.value })}
                  />
                </label>
                <label>
                  <span class="label">Role</span>
                  <select
                    name="role"
                    value={user.role}
                    onChange={(e) => setUser({ ...user, role: e.currentTarget.value })}
                  >
                    <option value="viewer">viewer</option>
                    <option value="owner">owner</option>
                  </select>
                </label>
                <button type="submit">Add user</button>
              </form>
              {userErr && (
                <p class="field-error" role="alert">
                  {fieldErrors(userErr)}
                </p>
              )}
              {userMsg && (
                <p class="muted small" role="status">
                  {userMsg}
                </p>
              )}
              <div class="table-scroll" tabIndex={0}>
                <table class="list" data-table="users">
                  <caption class="sr-only">Users</caption>
                  <thead>
                    <tr>
                      <th scope="col">Username</th>
                      <th scope="col">Role</th>
                      <th scope="col">Created</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((u) => (
                      <tr key={u.id}>
                        <th scope="row">{u.username}</th>
                        <td>
                          <span class="badge">{u.role}</span>
                        </td>
                        <td>{dateTime(u.created_at)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </Panel>
      </div>
    </>
  )
}
