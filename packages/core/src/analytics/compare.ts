// The comparison period of a series: the same number of buckets before (previous_period) or a
// year before (previous_year), cut so that bucket i of the comparison pairs with bucket i of the
// range. Dates only: each series is then bucketed in the shop's zone as usual, so a DST change
// or a shorter month inside either period changes hours per bucket, never the pairing.
import type { Granularity } from './analytics.repository.ts'

export const COMPARE_MODES = ['previous_period', 'previous_year'] as const
export type CompareMode = (typeof COMPARE_MODES)[number]

const DAY_MS = 86_400_000
const ms = (d: string) => Date.parse(`${d}T00:00:00Z`)
const iso = (t: number) => new Date(t).toISOString().slice(0, 10)
const addDays = (d: string, n: number) => iso(ms(d) + n * DAY_MS)
const lastDayOfMonth = (y: number, m0: number) => new Date(Date.UTC(y, m0 + 1, 0)).getUTCDate()

/**
 * A date moved by whole months, the day clamped to the target month's length; the last day of a
 * month moves to the last day of the target month (31 March → 28 February → 31 January).
 */
export function addMonths(d: string, n: number): string {
  const t = new Date(ms(d))
  const y = t.getUTCFullYear()
  const m0 = t.getUTCMonth()
  const day = t.getUTCDate()
  const target = new Date(Date.UTC(y, m0 + n, 1))
  const ty = target.getUTCFullYear()
  const tm = target.getUTCMonth()
  const last = lastDayOfMonth(ty, tm)
  const wasLast = day === lastDayOfMonth(y, m0)
  return iso(Date.UTC(ty, tm, wasLast ? last : Math.min(day, last)))
}

const monthIndex = (d: string) => Number(d.slice(0, 4)) * 12 + Number(d.slice(5, 7)) - 1
const mondayOf = (d: string) => addDays(d, -((new Date(ms(d)).getUTCDay() + 6) % 7))

/** How many buckets of a granularity [from, to] spans. */
export function bucketCount(from: string, to: string, g: Granularity): number {
  if (g === 'day') return Math.round((ms(to) - ms(from)) / DAY_MS) + 1
  if (g === 'week') return Math.round((ms(mondayOf(to)) - ms(mondayOf(from))) / (7 * DAY_MS)) + 1
  return monthIndex(to) - monthIndex(from) + 1
}

/**
 * The comparison range of [from, to]: previous_period moves both dates back by the range's
 * number of buckets (days, weeks or months); previous_year by 52 weeks (364 days, the same
 * weekdays) for day and week buckets and by 12 months for month buckets.
 */
export function comparisonRange(
  from: string,
  to: string,
  g: Granularity,
  mode: CompareMode,
): { from: string; to: string } {
  if (g === 'month') {
    const n = mode === 'previous_year' ? 12 : bucketCount(from, to, g)
    return { from: addMonths(from, -n), to: addMonths(to, -n) }
  }
  const days = mode === 'previous_year' ? 364 : bucketCount(from, to, g) * (g === 'week' ? 7 : 1)
  return { from: addDays(from, -days), to: addDays(to, -days) }
}

type SeriesAnswer = {
  range: { from: string; to: string; granularity: Granularity }
  series: unknown[]
}

/**
 * Runs a series query, and with `compare` the same query over the comparison range; the answer
 * gains `comparison` (its range, series and whatever else the query returns), whose series has
 * as many buckets as the range's, bucket i paired with bucket i.
 */
export async function withComparison<
  I extends { from?: string; to?: string; granularity?: Granularity },
  T extends SeriesAnswer,
>(input: I & { compare?: CompareMode }, fn: (input: I) => Promise<T>) {
  const { compare, ...rest } = input
  const current = await fn(rest as unknown as I)
  if (!compare) return current as T & { comparison?: T & { compare: CompareMode } }
  const r = current.range
  const shifted = comparisonRange(r.from, r.to, r.granularity, compare)
  const previous = await fn({ ...(rest as unknown as I), ...shifted, granularity: r.granularity })
  return { ...current, comparison: { compare, ...previous } }
}
