import { useEffect, useState } from 'preact/hooks'
import type { Granularity } from '../api.ts'
import { PRESETS, isDate, matchPreset, presetRange, type DateRange, type Preset } from '../dates.ts'
import { setQuery } from '../router.ts'

const GRANULARITIES: { id: Granularity; label: string }[] = [
  { id: 'day', label: 'Day' },
  { id: 'week', label: 'Week' },
  { id: 'month', label: 'Month' },
]

/** Presets and a custom range in the shop's zone, and the bucket size; all kept in the URL. */
export function RangePicker(props: {
  range: DateRange
  granularity: Granularity
  today: string
  zone: string
}) {
  const preset = matchPreset(props.range, props.today)
  const [custom, setCustom] = useState(preset === undefined)
  const [from, setFrom] = useState(props.range.from)
  const [to, setTo] = useState(props.range.to)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    setFrom(props.range.from)
    setTo(props.range.to)
  }, [props.range.from, props.range.to])

  const choose = (value: string) => {
    if (value === 'custom') {
      setCustom(true)
      return
    }
    setCustom(false)
    setError(null)
    const r = presetRange(value as Preset, props.today)
    setQuery({ from: r.from, to: r.to })
  }
  const apply = (e: Event) => {
    e.preventDefault()
    if (!isDate(from) || !isDate(to)) return setError('Enter both dates as YYYY-MM-DD.')
    if (to < from) return setError('The end date is before the start date.')
    setError(null)
    setQuery({ from, to })
  }

  return (
    <form class="range-picker" onSubmit={apply} aria-label="Date range">
      <div class="field">
        <label class="label" for="range-preset">
          Range
        </label>
        <select
          id="range-preset"
          name="preset"
          value={custom ? 'custom' : (preset ?? 'custom')}
          onChange={(e) => choose(e.currentTarget.value)}
        >
          {PRESETS.map((p) => (
            <option value={p.id} key={p.id}>
              {p.label}
            </option>
          ))}
          <option value="custom">Custom…</option>
        </select>
      </div>
      {(custom || preset === undefined) && (
        <>
          <label>
            <span class="label">From</span>
            <input
              type="date"
              name="from"
              value={from}
              max={props.today}
              required
              onInput={(e) => setFrom(e.currentTarget.value)}
            />
          </label>
          <label>
            <span class="label">To</span>
            <input
              type="date"
              name="to"
              value={to}
              max={props.today}
              required
              onInput={(e) => setTo(e.currentTarget.value)}
            />
          </label>
          <button type="submit">Apply</button>
        </>
      )}
      <fieldset class="segmented">
        <legend class="label">Granularity</legend>
        {GRANULARITIES.map((g) => (
          <label key={g.id} class={props.granularity === g.id ? 'on' : undefined}>
            <input
              type="radio"
              name="granularity"
              value={g.id}
              checked={props.granularity === g.id}
              onChange={() => setQuery({ granularity: g.id })}
            />
            {g.label}
          </label>
        ))}
      </fieldset>
      <p class="muted small zone" aria-live="polite">
        {props.range.from} → {props.range.to} · {props.zone}
      </p>
      {error && (
        <p class="field-error" role="alert">
          {error}
        </p>
      )}
    </form>
  )
}
