import type { ComponentChildren } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import type { ApiError } from './api.ts'
import type { Loaded } from './hooks.ts'
import type { EChartsCoreOption } from './echarts.ts'
import type * as Echarts from './echarts.ts'

/**
 * A titled card with the four states every panel has: loading (skeleton), error (the API's
 * message and a retry), empty (a sentence saying why) and the content.
 */
export function Panel<T>(props: {
  id: string
  title: string
  subtitle?: string
  load: Loaded<T>
  isEmpty?: (data: T) => boolean
  empty?: string
  wide?: boolean
  actions?: ComponentChildren
  children: (data: T) => ComponentChildren
}) {
  const { data, error, loading } = props.load
  const empty = data !== undefined && props.isEmpty?.(data)
  const state = error ? 'error' : data === undefined ? 'loading' : empty ? 'empty' : 'ready'
  return (
    <section
      class={`panel${props.wide ? ' wide' : ''}`}
      aria-labelledby={`${props.id}-title`}
      data-panel={props.id}
      data-state={state}
      aria-busy={loading}
    >
      <header class="panel-head">
        <div>
          <h2 id={`${props.id}-title`}>{props.title}</h2>
          {props.subtitle && <p class="muted small">{props.subtitle}</p>}
        </div>
        {props.actions}
      </header>
      {state === 'error' && <ErrorBox error={error!} retry={props.load.reload} />}
      {state === 'loading' && (
        <div class="skeleton" role="status" aria-label={`Loading ${props.title}`} />
      )}
      {state === 'empty' && <p class="empty">{props.empty ?? 'Nothing in this range yet.'}</p>}
      {state === 'ready' && (
        <div class={loading ? 'stale' : undefined}>{props.children(data!)}</div>
      )}
    </section>
  )
}

export function ErrorBox(props: { error: ApiError; retry?: () => void }) {
  return (
    <div class="error-box" role="alert">
      <p>
        <strong>Could not load this.</strong> {props.error.message}
        {props.error.status ? <span class="muted"> ({props.error.code})</span> : null}
      </p>
      {props.retry && (
        <button type="button" class="secondary" onClick={props.retry}>
          Retry
        </button>
      )}
    </div>
  )
}

// ECharts is its own chunk: the sign-in page does not need it, and the dashboard starts loading
// it at once (preloadCharts), in parallel with its API requests, not after their answers.
let loader: Promise<typeof Echarts> | undefined
const loadCharts = () => (loader ??= import('./echarts.ts'))
export const preloadCharts = () => void loadCharts().catch(() => {})

/**
 * One ECharts chart. The numbers it was given are on the element (`data-series`, JSON) and
 * `data-rendered` turns "true" once ECharts has finished drawing them, so tests and the
 * benchmark can compare what is drawn with the API and time it.
 */
export function Chart(props: {
  name: string
  label: string
  option: EChartsCoreOption
  series: unknown
  height?: number
}) {
  const el = useRef<HTMLDivElement>(null)
  const chart = useRef<{
    setOption: (o: EChartsCoreOption, notMerge: boolean) => void
    resize: () => void
    dispose: () => void
  } | null>(null)
  const [failed, setFailed] = useState<string | null>(null)
  const json = JSON.stringify(props.series)
  const latest = useRef(props.option)
  latest.current = props.option

  useEffect(() => {
    let disposed = false
    let observer: ResizeObserver | undefined
    loadCharts().then(
      ({ echarts }) => {
        if (disposed || !el.current) return
        const c = echarts.init(el.current, null, { renderer: 'canvas' })
        chart.current = c
        c.on('finished', () => {
          if (el.current) el.current.dataset.rendered = 'true'
        })
        c.setOption(withDefaults(latest.current), true)
        // The observer's first call reports the size the chart was just drawn at: skip it.
        let first = true
        observer = new ResizeObserver(() => {
          if (first) first = false
          else c.resize()
        })
        observer.observe(el.current)
      },
      (err: Error) => setFailed(err.message),
    )
    return () => {
      disposed = true
      observer?.disconnect()
      chart.current?.dispose()
      chart.current = null
    }
  }, [])

  useEffect(() => {
    if (!el.current) return
    el.current.dataset.rendered = 'false'
    chart.current?.setOption(withDefaults(props.option), true)
  }, [json])

  if (failed)
    return (
      <p class="error-box" role="alert">
        The chart library did not load: {failed}
      </p>
    )
  return (
    <div
      ref={el}
      class="chart"
      style={{ height: `${props.height ?? 260}px` }}
      data-chart={props.name}
      data-series={json}
      data-rendered="false"
      role="img"
      aria-label={props.label}
    />
  )
}

const AXIS = { axisLine: { lineStyle: { color: '#c9ced6' } }, axisLabel: { color: '#5b6472' } }

function withDefaults(option: EChartsCoreOption): EChartsCoreOption {
  return {
    // Drawn at once: a dashboard's figures should not wait for an entrance animation.
    animation: false,
    textStyle: { fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif' },
    color: ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d'],
    ...('xAxis' in option
      ? {
          grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
          tooltip: { trigger: 'axis', confine: true },
        }
      : {}),
    legend: { top: 0, type: 'scroll', textStyle: { color: '#3b4350' } },
    ...option,
  }
}

export const valueAxis = (extra: Record<string, unknown> = {}) => ({
  type: 'value',
  splitLine: { lineStyle: { color: '#eef0f3' } },
  axisLabel: { color: '#5b6472' },
  ...extra,
})
export const categoryAxis = (data: string[]) => ({ type: 'category', data, ...AXIS })

/** A table of the same figures as a chart: for screen readers, keyboard users and tests. */
export function DataTable(props: {
  name: string
  caption: string
  columns: string[]
  rows: { key: string; cells: { text: string; value?: string | number }[] }[]
  open?: boolean
}) {
  return (
    <details class="data-table" open={props.open}>
      <summary>Show the figures</summary>
      <div class="table-scroll" tabIndex={0}>
        <table data-table={props.name}>
          <caption class="sr-only">{props.caption}</caption>
          <thead>
            <tr>
              {props.columns.map((c) => (
                <th scope="col" key={c}>
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr key={r.key}>
                {r.cells.map((c, i) =>
                  i === 0 ? (
                    <th scope="row" key={i} data-value={c.value ?? c.text}>
                      {c.text}
                    </th>
                  ) : (
                    <td key={i} data-value={c.value ?? c.text}>
                      {c.text}
                    </td>
                  ),
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  )
}

export function Progress(props: { value: number | null; label: string; id?: string }) {
  const v = props.value === null ? null : Math.max(0, Math.min(100, props.value))
  return (
    <div class="progress-wrap">
      <progress
        id={props.id}
        max={100}
        value={v ?? undefined}
        aria-label={props.label}
        data-percent={v ?? ''}
      />
      <span class="small">{v === null ? 'counting…' : `${v.toFixed(0)} %`}</span>
    </div>
  )
}
