// Calendar dates in the shop's time zone, as the analytics API takes them (YYYY-MM-DD, inclusive).
// Pure functions of (today in the zone): the presets of the range picker and their labels.

export type Preset = 'last7' | 'last30' | 'last90' | 'this_month' | 'last_month' | 'ytd'
export const PRESETS: { id: Preset; label: string }[] = [
  { id: 'last7', label: 'Last 7 days' },
  { id: 'last30', label: 'Last 30 days' },
  { id: 'last90', label: 'Last 90 days' },
  { id: 'this_month', label: 'This month' },
  { id: 'last_month', label: 'Last month' },
  { id: 'ytd', label: 'Year to date' },
]
export type DateRange = { from: string; to: string }

const DATE = /^\d{4}-\d{2}-\d{2}$/

/** Today's date in an IANA zone (the shop's), e.g. 2026-12-04. */
export function todayIn(zone: string, now: Date = new Date()): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now)
}

function toUtc(date: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  return new Date(Date.UTC(y, m - 1, d))
}
const fromUtc = (d: Date) => d.toISOString().slice(0, 10)

export function addDays(date: string, days: number): string {
  const d = toUtc(date)
  d.setUTCDate(d.getUTCDate() + days)
  return fromUtc(d)
}

/** Days from `from` to `to`, both counted. */
export function daysBetween(from: string, to: string): number {
  return Math.round((toUtc(to).getTime() - toUtc(from).getTime()) / 86_400_000) + 1
}

export function isDate(s: string | null | undefined): s is string {
  if (!s || !DATE.test(s)) return false
  return fromUtc(toUtc(s)) === s
}

/** The range a preset means on `today` (a date in the shop's zone). */
export function presetRange(preset: Preset, today: string): DateRange {
  const [y, m] = today.split('-') as [string, string]
  switch (preset) {
    case 'last7':
      return { from: addDays(today, -6), to: today }
    case 'last30':
      return { from: addDays(today, -29), to: today }
    case 'last90':
      return { from: addDays(today, -89), to: today }
    case 'this_month':
      return { from: `${y}-${m}-01`, to: today }
    case 'last_month': {
      const firstOfThis = `${y}-${m}-01`
      const lastOfPrev = addDays(firstOfThis, -1)
      return { from: `${lastOfPrev.slice(0, 7)}-01`, to: lastOfPrev }
    }
    case 'ytd':
      return { from: `${y}-01-01`, to: today }
  }
}

/** The preset a range equals on `today`, or undefined (a custom range). */
export function matchPreset(range: DateRange, today: string): Preset | undefined {
  return PRESETS.find((p) => {
    const r = presetRange(p.id, today)
    return r.from === range.from && r.to === range.to
  })?.id
}

/** The granularity that keeps a chart readable for a range (what a fresh view starts with). */
export function defaultGranularity(range: DateRange): 'day' | 'week' | 'month' {
  const n = daysBetween(range.from, range.to)
  return n <= 62 ? 'day' : n <= 190 ? 'week' : 'month'
}
