/** Shopify's global id for a resource type and numeric id. */
export const gid = (type: string, id: number | string): string => `gid://shopify/${type}/${id}`

/** Parses `gid://shopify/Type/123` into its parts, or null. */
export function parseGid(value: string): { type: string; id: number } | null {
  const m = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)(?:\?.*)?$/.exec(value)
  if (!m?.[1] || !m[2]) return null
  return { type: m[1], id: Number(m[2]) }
}

/** Decimal as Shopify prints it: minor units → "55.0", "12.5", "12.34" (never padded, never a number). */
export function decimal(cents: number): string {
  const neg = cents < 0
  const abs = Math.abs(Math.round(cents))
  const whole = Math.floor(abs / 100)
  const frac = abs % 100
  const body =
    frac === 0
      ? `${whole}.0`
      : frac % 10 === 0
        ? `${whole}.${frac / 10}`
        : `${whole}.${String(frac).padStart(2, '0')}`
  return neg ? `-${body}` : body
}

/** REST payloads print money with two decimals ("404.95", "0.00"). */
export function restMoney(cents: number): string {
  const neg = cents < 0
  const abs = Math.abs(Math.round(cents))
  const body = `${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
  return neg ? `-${body}` : body
}

/** GraphQL DateTime: UTC, whole seconds, `Z`. */
export function isoSeconds(ms: number): string {
  const s = new Date(Math.floor(ms / 1000) * 1000).toISOString()
  return s.slice(0, 19) + 'Z'
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>()

/** REST payload time: shop-local wall time with its UTC offset, e.g. 2021-12-31T19:00:00-05:00. */
export function localIso(ms: number, timeZone: string): string {
  let f = offsetFormatters.get(timeZone)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
    offsetFormatters.set(timeZone, f)
  }
  const secMs = Math.floor(ms / 1000) * 1000
  const parts: Record<string, string> = {}
  for (const p of f.formatToParts(new Date(secMs))) parts[p.type] = p.value
  const y = Number(parts.year)
  const mo = Number(parts.month)
  const d = Number(parts.day)
  const h = Number(parts.hour)
  const mi = Number(parts.minute)
  const s = Number(parts.second)
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s)
  const offMin = Math.round((asUtc - secMs) / 60000)
  const sign = offMin < 0 ? '-' : '+'
  const oa = Math.abs(offMin)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${sign}${pad(Math.floor(oa / 60))}:${pad(oa % 60)}`
}
