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
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
}
