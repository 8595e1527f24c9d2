import { useState } from 'preact/hooks'
import { type ApiError, post } from '../api.ts'

type Kind = 'merchant' | 'admin'

/** Merchant (shop + username + password) and admin sign-in, both opening a server session. */
export function Login(props: {
  kind: Kind
  onDone: (kind: Kind) => void
  switchTo: (kind: Kind) => void
}) {
  const [shop, setShop] = useState('')
  const [username, setUsername] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const merchant = props.kind === 'merchant'

  const submit = async (e: Event) => {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      if (merchant) await post('/api/tenant/login', { shop, username, password })
      else await post('/api/admin/login', { username, password })
      props.onDone(props.kind)
    } catch (err) {
      const a = err as ApiError
      setError(
        a.status === 401 || a.code === 'INVALID_CREDENTIALS'
          ? 'Wrong shop, username or password.'
          : a.fields?.length
            ? a.fields.map((f) => `${f.field.replace(/^body\./, '')}: ${f.message}`).join('; ')
            : a.message,
      )
    } finally {
      setBusy(false)
    }
  }

  return (
    <main class="login" id="main">
      <div class="login-card">
        <p class="brand" aria-hidden="true">
          <span class="logo">x</span> Xeno
        </p>
        <h1>{merchant ? 'Sign in to your shop' : 'Operator sign-in'}</h1>
        <div class="tabs" role="group" aria-label="Who is signing in">
          <button
            type="button"
            class={merchant ? 'on' : ''}
            aria-pressed={merchant}
            onClick={() => props.switchTo('merchant')}
          >
            Merchant
          </button>
          <button
            type="button"
            class={!merchant ? 'on' : ''}
            aria-pressed={!merchant}
            onClick={() => props.switchTo('admin')}
          >
            Admin
          </button>
        </div>
        <form onSubmit={(e) => void submit(e)} class="stack">
          {merchant && (
            <label>
              <span class="label">Shop</span>
              <input
                name="shop"
                required
                autoComplete="organization"
                placeholder="your-store.myshopify.com"
                value={shop}
                onInput={(e) => setShop(e.currentTarget.value)}
              />
            </label>
          )}
          <label>
            <span class="label">Username</span>
            <input
              name="username"
              required
              autoComplete="username"
              value={username}
              onInput={(e) => setUsername(e.currentTarget.value)}
            />
          </label>
          <label>
            <span class="label">Password</span>
            <input
              name="password"
              type="password"
              required
              autoComplete="current-password"
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </label>
          {error && (
            <p class="field-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  )
}
