import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { ApiError, get } from './api.ts'

export type Loaded<T> = {
  data: T | undefined
  error: ApiError | undefined
  loading: boolean
  reload: () => void
}

/** GETs an API path and re-fetches when it changes; the newest answer wins. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean }>({
    loading: path !== null,
  })
  const [tick, setTick] = useState(0)
  const seq = useRef(0)
  useEffect(() => {
    if (path === null) return
    const mine = ++seq.current
    setState((s) => ({ data: s.data, loading: true }))
    get<T>(path).then(
      (data) => mine === seq.current && setState({ data, loading: false }),
      (error: unknown) =>
        mine === seq.current &&
        setState({
          loading: false,
          error:
            error instanceof ApiError ? error : new ApiError(0, 'CLIENT', (error as Error).message),
        }),
    )
  }, [path, tick])
  const reload = useCallback(() => setTick((n) => n + 1), [])
  return { data: state.data, error: state.error, loading: state.loading, reload }
}

/** Calls fn every `ms` while `active`. */
export function useInterval(fn: () => void, ms: number, active: boolean) {
  const saved = useRef(fn)
  saved.current = fn
  useEffect(() => {
    if (!active) return
    const id = window.setInterval(() => saved.current(), ms)
    return () => window.clearInterval(id)
  }, [ms, active])
}
