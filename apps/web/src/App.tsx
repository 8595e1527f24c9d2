import { useEffect, useState } from 'preact/hooks'
import { ApiError, get, post, type Me, type Tenant } from './api.ts'
import { ErrorBox } from './components.tsx'
import { navigate, onLinkClick, useLocation, type Location } from './router.ts'
import { AdminOAuth, AdminTenants, AdminWebhooks } from './pages/Admin.tsx'
import { Login } from './pages/Login.tsx'
import { Overview } from './pages/Overview.tsx'
import { SyncStatus } from './pages/Sync.tsx'
import { Team } from './pages/Team.tsx'

type Session =
  | { kind: 'unknown' }
  | { kind: 'none'; error?: ApiError }
  | { kind: 'merchant'; me: Me }
  | { kind: 'admin'; username: string }

/** Who is signed in: a tenant session first (the merchant side), then an admin session. */
async function resolveSession(admin: boolean): Promise<Session> {
  const tryGet = async <T,>(path: string) => {
    try {
      return await get<T>(path)
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 404 || e.status === 403))
        return null
      throw e
    }
  }
  // The console asks for an admin session only; the merchant side takes a tenant session first
  // and an admin's (looking at one tenant) otherwise.
  const order = admin ? (['admin'] as const) : (['merchant', 'admin'] as const)
  for (const k of order) {
    if (k === 'merchant') {
      const me = await tryGet<Me>('/api/tenant/me')
      if (me) return { kind: 'merchant', me }
    } else {
      const a = await tryGet<{ username: string }>('/api/admin/me')
      if (a) return { kind: 'admin', username: a.username }
    }
  }
  return { kind: 'none' }
}

function NavLink(props: { to: string; loc: Location; children: string; keep?: string }) {
  const current = props.loc.path === props.to
  const keep = props.keep ? `?${props.keep}` : ''
  return (
    <a
      href={`/app${props.to}${keep}`}
      onClick={onLinkClick}
      aria-current={current ? 'page' : undefined}
    >
      {props.children}
    </a>
  )
}

function Shell(props: {
  title: string
  subtitle: string
  nav: preact.ComponentChildren
  onSignOut: () => void
  children: preact.ComponentChildren
}) {
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <div class="top-inner">
          <span class="brand">
            <span class="logo" aria-hidden="true">
              x
            </span>
            <span>
              <strong>{props.title}</strong>
              <span class="muted small block">{props.subtitle}</span>
            </span>
          </span>
          <nav aria-label="Main">{props.nav}</nav>
          <button type="button" class="secondary" onClick={props.onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {props.children}
      </main>
    </>
  )
}

/** Loads the tenant an admin opened from the console (?tenant=…). */
function useAdminTenant(id: string | null) {
  const [t, setT] = useState<{ tenant?: Tenant; error?: ApiError }>({})
  useEffect(() => {
    if (!id) return
    get<Tenant>(`/api/tenants/${id}`).then(
      (tenant) => setT({ tenant }),
      (error: ApiError) => setT({ error }),
    )
  }, [id])
  return t
}

export function App() {
  const loc = useLocation()
  const adminPath = loc.path === '/admin' || loc.path.startsWith('/admin/')
  const [session, setSession] = useState<Session>({ kind: 'unknown' })
  const [tick, setTick] = useState(0)
  useEffect(() => {
    resolveSession(adminPath).then(setSession, (error: ApiError) =>
      setSession({ kind: 'none', error }),
    )
  }, [tick])
  const adminTenantId = session.kind === 'admin' && !adminPath ? loc.query.get('tenant') : null
  const adminTenant = useAdminTenant(adminTenantId)

  // Titles per page, for screen readers and browser history.
  useEffect(() => {
    const names: Record<string, string> = {
      '/overview': 'Overview',
      '/sync': 'Sync',
      '/team': 'Team and API keys',
      '/admin': 'Tenants',
      '/admin/webhooks': 'Webhook inbox',
      '/admin/oauth': 'OAuth configuration',
      '/login': 'Sign in',
      '/admin/login': 'Admin sign-in',
    }
    document.title = `${names[loc.path] ?? 'Dashboard'} · Xeno`
  }, [loc.path])

  const signOut = async (kind: 'merchant' | 'admin') => {
    await post(kind === 'merchant' ? '/api/tenant/logout' : '/api/admin/logout').catch(() => {})
    setSession({ kind: 'none' })
    navigate(kind === 'merchant' ? '/login' : '/admin/login')
  }

  if (session.kind === 'unknown')
    return (
      <main id="main" class="center">
        <p role="status">Loading…</p>
      </main>
    )

  const wantsAdmin = adminPath || loc.path === '/admin/login'
  if (session.kind === 'none') {
    return (
      <>
        {session.error && <ErrorBox error={session.error} retry={() => setTick((n) => n + 1)} />}
        <Login
          kind={wantsAdmin ? 'admin' : 'merchant'}
          switchTo={(k) => navigate(k === 'admin' ? '/admin/login' : '/login')}
          onDone={(k) => {
            navigate(
              k === 'admin'
                ? '/admin'
                : loc.path === '/login' || loc.path === '/'
                  ? '/overview'
                  : `${loc.path}?${loc.query.toString()}`,
            )
            setTick((n) => n + 1)
          }}
        />
      </>
    )
  }

  if (session.kind === 'admin' && (adminPath || !adminTenantId)) {
    if (!adminPath || loc.path === '/admin/login') {
      navigate('/admin', true)
      return null
    }
    return (
      <Shell
        title="Xeno console"
        subtitle={`signed in as ${session.username}`}
        onSignOut={() => void signOut('admin')}
        nav={
          <>
            <NavLink to="/admin" loc={loc}>
              Tenants
            </NavLink>
            <NavLink to="/admin/webhooks" loc={loc}>
              Webhooks
            </NavLink>
            <NavLink to="/admin/oauth" loc={loc}>
              OAuth
            </NavLink>
            <a href="/admin/queues">Queues (Bull Board)</a>
          </>
        }
      >
        {loc.path === '/admin/webhooks' ? (
          <AdminWebhooks />
        ) : loc.path === '/admin/oauth' ? (
          <AdminOAuth />
        ) : (
          <AdminTenants loc={loc} />
        )}
      </Shell>
    )
  }

  // The merchant side: a tenant user, or an admin looking at one tenant (?tenant=…).
  let tenant: Tenant | undefined
  let owner = false
  let who = ''
  if (session.kind === 'merchant') {
    tenant = session.me.tenant
    owner = session.me.user?.role === 'owner'
    who = session.me.user ? `${session.me.user.username} · ${session.me.user.role}` : 'API key'
    if (adminPath) {
      navigate('/overview', true)
      return null
    }
  } else {
    tenant = adminTenant.tenant
    owner = true
    who = 'admin view'
    if (adminTenant.error)
      return (
        <main id="main">
          <ErrorBox error={adminTenant.error} />
        </main>
      )
    if (!tenant)
      return (
        <main id="main" class="center">
          <p role="status">Loading…</p>
        </main>
      )
  }
  if (loc.path === '/' || loc.path === '/login') {
    navigate('/overview', true)
    return null
  }
  const keep = session.kind === 'admin' ? `tenant=${tenant.id}` : undefined
  return (
    <Shell
      title={tenant.shop_name ?? tenant.shop_domain}
      subtitle={`${tenant.shop_domain} · ${who}`}
      onSignOut={() => void signOut(session.kind === 'admin' ? 'admin' : 'merchant')}
      nav={
        <>
          <NavLink to="/overview" loc={loc} keep={keep}>
            Overview
          </NavLink>
          <NavLink to="/sync" loc={loc} keep={keep}>
            Sync
          </NavLink>
          {owner && (
            <NavLink to="/team" loc={loc} keep={keep}>
              Team &amp; keys
            </NavLink>
          )}
          {session.kind === 'admin' && (
            <a href="/app/admin" onClick={onLinkClick}>
              Console
            </a>
          )}
        </>
      }
    >
      {loc.path === '/sync' ? (
        <>
          <div class="page-head">
            <h1>Sync</h1>
          </div>
          <SyncStatus tenantId={tenant.id} canTrigger={owner} />
        </>
      ) : loc.path === '/team' && owner ? (
        <Team tenantId={tenant.id} />
      ) : loc.path === '/overview' ? (
        <Overview tenant={tenant} loc={loc} />
      ) : (
        <div class="page-head">
          <h1>Not found</h1>
          <p>
            This page does not exist.{' '}
            <a href="/app/overview" onClick={onLinkClick}>
              Go to the overview
            </a>
            .
          </p>
        </div>
      )}
    </Shell>
  )
}
