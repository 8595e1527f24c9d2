/**
 * Waits ms, or less when signal aborts (then rejects with the signal's reason), so shutdown never
 * waits out a backoff.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error)
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason as Error)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** Retries fn with exponential backoff and jitter until it succeeds or signal aborts. */
export async function retryForever<T>(
  fn: () => Promise<T>,
  opts: {
    onError: (err: unknown, attempt: number, delayMs: number) => void
    signal?: AbortSignal
    baseMs?: number
    maxMs?: number
  },
): Promise<T> {
  const base = opts.baseMs ?? 250
  const max = opts.maxMs ?? 10_000
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (err) {
      if (opts.signal?.aborted) throw err
      const delay = Math.round(Math.min(max, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2))
      opts.onError(err, attempt, delay)
      await abortableSleep(delay, opts.signal)
    }
  }
}
