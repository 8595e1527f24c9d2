// Routes are paths under /app/ with the view's state (range, granularity, tenant) in the query
// string, so any view can be bookmarked or shared. History API only; no hash routing.
import { useEffect, useState } from 'preact/hooks'

export const BASE = '/app'

export type Location = { path: string; query: URLSearchParams }

function current(): Location {
  const p = window.location.pathname
  const path = p.startsWith(BASE) ? p.slice(BASE.length) || '/' : '/'
  return {
    path: path.length > 1 ? path.replace(/\/$/, '') : path,
    query: new URLSearchParams(window.location.search),
  }
}

const listeners = new Set<() => void>()
window.addEventListener('popstate', () => listeners.forEach((l) => l()))

/** Goes to an app path (`/overview?from=…`); `replace` keeps the history entry. */
export function navigate(to: string, replace = false) {
  const url = `${BASE}${to}`
  if (url === `${window.location.pathname}${window.location.search}`) return
  if (replace) window.history.replaceState(null, '', url)
  else window.history.pushState(null, '', url)
  listeners.forEach((l) => l())
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current)
  useEffect(() => {
    const l = () => setLoc(current())
    listeners.add(l)
    return () => void listeners.delete(l)
  }, [])
  return loc
}

/** Changes some query parameters of the current path. */
export function setQuery(changes: Record<string, string | null>, replace = false) {
  const { path, query } = current()
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) query.delete(k)
    else query.set(k, v)
  }
  const qs = query.toString()
  navigate(`${path}${qs ? `?${qs}` : ''}`, replace)
}

/** Same-app link click: navigate without a page load (ctrl/cmd/middle clicks stay native). */
export function onLinkClick(e: MouseEvent) {
  const a = (e.currentTarget as HTMLAnchorElement | null) ?? null
  if (
    !a ||
    e.defaultPrevented ||
    e.button !== 0 ||
    e.metaKey ||
    e.ctrlKey ||
    e.shiftKey ||
    e.altKey
  )
    return
  const href = a.getAttribute('href') ?? ''
  if (!href.startsWith(`${BASE}/`) && href !== BASE) return
  e.preventDefault()
  navigate(href.slice(BASE.length) || '/')
}
