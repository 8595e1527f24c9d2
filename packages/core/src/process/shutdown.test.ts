import { EventEmitter } from 'node:events'
import t from 'tap'
import { createLogger } from '@xeno/logger'
import { onShutdownSignals } from './shutdown.ts'

const logger = createLogger({ level: 'silent' })

function harness(stop: () => Promise<void>, graceMs = 1000) {
  const signals = new EventEmitter()
  const abort = new AbortController()
  const exits: number[] = []
  let calls = 0
  onShutdownSignals({
    logger,
    graceMs,
    abort,
    signals,
    exit: (code) => exits.push(code),
    stop: async () => {
      calls++
      await stop()
    },
  })
  return { signals, abort, exits, calls: () => calls }
}

t.test('the first signal stops once and exits 0 after stop resolves', async (t) => {
  let release!: () => void
  const h = harness(() => new Promise<void>((r) => (release = r)))
  h.signals.emit('SIGTERM')
  h.signals.emit('SIGINT')
  h.signals.emit('SIGTERM')
  t.ok(h.abort.signal.aborted, 'in-flight work is told at once')
  await new Promise((r) => setImmediate(r))
  t.equal(h.calls(), 1, 'stop runs once whatever the number of signals')
  t.same(h.exits, [], 'no exit while work is finishing')
  release()
  await new Promise((r) => setImmediate(r))
  t.same(h.exits, [0])
})

t.test('past the grace period the process exits 1', async (t) => {
  const h = harness(() => new Promise<void>(() => {}), 30)
  h.signals.emit('SIGINT')
  await new Promise((r) => setTimeout(r, 80))
  t.same(h.exits, [1])
})

t.test('a stop that throws exits 1', async (t) => {
  const h = harness(() => Promise.reject(new Error('pool gone')))
  h.signals.emit('SIGTERM')
  await new Promise((r) => setImmediate(r))
  t.same(h.exits, [1])
})
