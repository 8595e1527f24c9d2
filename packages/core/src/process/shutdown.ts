import type { Logger } from '@xeno/logger'

type SignalSource = {
  on(signal: 'SIGTERM' | 'SIGINT', listener: () => void): unknown
}

/**
 * The graceful shutdown both processes share: on the first SIGTERM or SIGINT, `stop` runs (stop
 * accepting work, let what is in flight finish, close connections), then the process exits 0;
 * past `graceMs` it exits 1 whatever is still running. Later signals are ignored.
 */
export function onShutdownSignals(options: {
  logger: Logger
  graceMs: number
  stop: () => Promise<void>
  /** Aborted first, so long waits (jobs, retries) notice at once. */
  abort?: AbortController
  signals?: SignalSource
  exit?: (code: number) => void
}): void {
  const exit = options.exit ?? ((code: number) => process.exit(code))
  const signals = options.signals ?? process
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    options.abort?.abort()
    options.logger.info({ signal, graceMs: options.graceMs }, 'shutting down')
    const force = setTimeout(() => {
      options.logger.error('grace period over, exiting')
      exit(1)
    }, options.graceMs)
    force.unref()
    try {
      await options.stop()
    } catch (err) {
      options.logger.error({ err: { message: (err as Error).message } }, 'shutdown failed')
      clearTimeout(force)
      exit(1)
      return
    }
    clearTimeout(force)
    options.logger.info('stopped')
    exit(0)
  }
  signals.on('SIGTERM', () => void stop('SIGTERM'))
  signals.on('SIGINT', () => void stop('SIGINT'))
}
