// Figures as people read them: money with Intl in the shop's currency (the API's decimal strings
// are parsed only here, for display), counts, rates and changes against the previous period.

const moneyFormats = new Map<string, Intl.NumberFormat>()

export function money(value: string | null | undefined, currency: string, compact = false) {
  if (value === null || value === undefined) return '—'
  const key = `${currency}:${compact}`
  let f = moneyFormats.get(key)
  if (!f) {
    f = new Intl.NumberFormat(undefined, {
      style: 'currency',
      currency,
      ...(compact ? { notation: 'compact', maximumFractionDigits: 1 } : {}),
    })
    moneyFormats.set(key, f)
  }
  return f.format(Number(value))
}

const ints = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 })
export const count = (n: number | null | undefined) => (n == null ? '—' : ints.format(n))

const pct = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 })
export const percent = (r: number | null | undefined) => (r == null ? '—' : pct.format(r))

/** Relative change of a figure against the previous period; null when there is no base. */
export function change(current: number, previous: number): number | null {
  if (!Number.isFinite(current) || !Number.isFinite(previous) || previous === 0) return null
  return (current - previous) / Math.abs(previous)
}

const signed = new Intl.NumberFormat(undefined, {
  style: 'percent',
  maximumFractionDigits: 1,
  signDisplay: 'exceptZero',
})
export const changeText = (c: number | null) => (c === null ? 'no previous data' : signed.format(c))

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return 'never'
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

/** A lag in seconds as "4 min", "2 h 5 min", "3 d". */
export function duration(seconds: number | null | undefined): string {
  if (seconds == null) return '—'
  if (seconds < 60) return `${seconds} s`
  const m = Math.floor(seconds / 60)
  if (m < 60) return `${m} min`
  const h = Math.floor(m / 60)
  if (h < 48) return `${h} h ${m % 60} min`
  return `${Math.floor(h / 24)} d`
}

export const customerName = (c: {
  first_name: string | null
  last_name: string | null
  email: string | null
  customer_id: string
}) => [c.first_name, c.last_name].filter(Boolean).join(' ') || c.email || `#${c.customer_id}`
