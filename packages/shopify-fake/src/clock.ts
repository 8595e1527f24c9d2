/** A clock the fake reads everywhere, so tests can freeze it and "advance" hours in milliseconds. */
export type Clock = {
  now(): number
  /** Runs `fn` once the clock reaches now() + ms (fake time). */
  setTimer(fn: () => void, ms: number): TimerHandle
  clearTimer(handle: TimerHandle): void
  /** Moves the clock forward and runs every timer that became due, in due order. */
  advance(ms: number): void
  dispose(): void
}

export type TimerHandle = { readonly id: number }

export type ClockOptions = {
  /** Epoch ms the clock starts at (default Date.now()). */
  start?: number
  /** When false, time only moves through advance() (deterministic tests). Default true. */
  auto?: boolean
  /** Fake ms per real ms while auto (default 1). 60 makes a 4 h retry schedule take 4 min. */
  speed?: number
}

type Timer = { id: number; due: number; fn: () => void }

/** Creates a clock; with `auto` it follows real time (optionally sped up), plus any advance(). */
export function createClock(opts: ClockOptions = {}): Clock {
  const auto = opts.auto ?? true
  const speed = opts.speed ?? 1
  const realStart = performance.now()
  const start = opts.start ?? Date.now()
  let offset = 0
  let seq = 0
  let timers: Timer[] = []
  let wake: NodeJS.Timeout | undefined
  let disposed = false

  const now = (): number =>
    Math.floor(start + offset + (auto ? (performance.now() - realStart) * speed : 0))

  const runDue = (): void => {
    for (;;) {
      const t = now()
      const idx = timers.findIndex((x) => x.due <= t)
      if (idx < 0) break
      let best = idx
      for (let i = idx + 1; i < timers.length; i++) {
        const cand = timers[i]
        const cur = timers[best]
        if (cand && cur && cand.due <= t && cand.due < cur.due) best = i
      }
      const [timer] = timers.splice(best, 1)
      timer?.fn()
    }
    schedule()
  }

  const schedule = (): void => {
    if (wake) clearTimeout(wake)
    wake = undefined
    if (!auto || disposed || timers.length === 0) return
    let due = Infinity
    for (const t of timers) due = Math.min(due, t.due)
    const realMs = Math.max(0, Math.ceil((due - now()) / speed))
    wake = setTimeout(runDue, Math.min(realMs, 2 ** 31 - 1))
    wake.unref()
  }

  return {
    now,
    setTimer(fn, ms) {
      const timer = { id: ++seq, due: now() + Math.max(0, ms), fn }
      timers.push(timer)
      schedule()
      return { id: timer.id }
    },
    clearTimer(handle) {
      timers = timers.filter((t) => t.id !== handle.id)
      schedule()
    },
    advance(ms) {
      offset += Math.max(0, ms)
      runDue()
    },
    dispose() {
      disposed = true
      timers = []
      if (wake) clearTimeout(wake)
    },
  }
}
