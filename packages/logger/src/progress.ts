// Progress bars for the long CLI commands (migrations, demo seeding, benchmarks). On a terminal
// the bar is redrawn in place (at most every `redrawMs`, and every second while nothing moves so
// the elapsed time keeps ticking); elsewhere (CI logs, pipes) it prints one plain line per tenth
// of the way, so a log is not flooded with carriage returns.

export type ProgressStream = {
  write(chunk: string): unknown
  isTTY?: boolean
  columns?: number
}

export type ProgressOptions = {
  label: string
  /** Steps in all; null when unknown (shows a count and the elapsed time, no bar). */
  total: number | null
  unit?: string
  /** The first step's name, shown from the first frame. */
  detail?: string
  stream?: ProgressStream
  now?: () => number
  redrawMs?: number
}

export type ProgressBar = {
  /** Sets how far along the work is; `detail` names the current step. */
  update(done: number, detail?: string): void
  setTotal(total: number | null): void
  /** Prints a line above the bar (a message must not break the bar's line on a terminal). */
  log(line: string): void
  /** Ends the bar with a final line. */
  finish(message?: string): void
  /** Ends the bar on failure (the line says so). */
  fail(message: string): void
}

export type ProgressFrame = {
  label: string
  done: number
  total: number | null
  elapsedMs: number
  unit?: string
  detail?: string
  width?: number
}

const BAR = 24

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
}

const count = (n: number) => n.toLocaleString('en-US')

/** One line of progress: `label [#####.......] 42% 420/1,000 rows 12s ETA 17s · detail`. */
export function renderProgress(f: ProgressFrame): string {
  const parts = [f.label]
  const unit = f.unit ? ` ${f.unit}` : ''
  if (f.total !== null && f.total > 0) {
    const ratio = Math.min(1, Math.max(0, f.done / f.total))
    const filled = Math.round(ratio * BAR)
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(BAR - filled)}]`)
    parts.push(`${String(Math.floor(ratio * 100)).padStart(3)}%`)
    parts.push(`${count(f.done)}/${count(f.total)}${unit}`)
    parts.push(duration(f.elapsedMs))
    if (f.done > 0 && f.done < f.total)
      parts.push(`ETA ${duration((f.elapsedMs / f.done) * (f.total - f.done))}`)
  } else {
    parts.push(`${count(f.done)}${unit}`, duration(f.elapsedMs))
  }
  let line = parts.join(' ')
  if (f.detail) line += ` · ${f.detail}`
  if (f.width && line.length > f.width) line = `${line.slice(0, Math.max(0, f.width - 1))}…`
  return line
}

export function createProgressBar(options: ProgressOptions): ProgressBar {
  const stream = options.stream ?? process.stderr
  const now = options.now ?? Date.now
  const tty = stream.isTTY === true
  const redrawMs = options.redrawMs ?? 100
  const started = now()
  let total = options.total
  let done = 0
  let detail = options.detail
  let lastDraw = -Infinity
  let lastTenth = -1
  let lastDetail: string | undefined = detail
  let ended = false

  const frame = (): string =>
    renderProgress({
      label: options.label,
      done,
      total,
      elapsedMs: now() - started,
      unit: options.unit,
      detail,
      width: tty ? (stream.columns ?? 100) - 1 : undefined,
    })

  function draw(force = false) {
    if (ended) return
    if (tty) {
      if (!force && now() - lastDraw < redrawMs) return
      stream.write(`\r\x1b[K${frame()}`)
      lastDraw = now()
      return
    }
    // Not a terminal: a line per tenth of the way, and one per new step when there is no total.
    const tenth = total ? Math.floor((Math.min(done, total) / total) * 10) : -1
    const moved = total ? tenth > lastTenth : detail !== lastDetail
    if (!force && !moved) return
    lastTenth = tenth
    lastDetail = detail
    stream.write(`${frame()}\n`)
  }

  // Keeps the elapsed time moving on a terminal while one long step runs; never holds the
  // process open.
  const ticker = tty ? setInterval(() => draw(true), 1000) : undefined
  ticker?.unref()
  draw(true)

  function end(line: string) {
    if (ended) return
    ended = true
    if (ticker) clearInterval(ticker)
    stream.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`)
  }

  return {
    update(value, d) {
      done = value
      if (d !== undefined) detail = d
      draw()
    },
    setTotal(value) {
      total = value
      draw()
    },
    log(line) {
      if (ended || !tty) {
        stream.write(`${line}\n`)
        return
      }
      stream.write(`\r\x1b[K${line}\n`)
      draw(true)
    },
    finish(message) {
      if (total !== null) done = Math.max(done, total)
      detail = message
      end(frame())
    },
    fail(message) {
      detail = `failed: ${message}`
      end(frame())
    },
  }
}
