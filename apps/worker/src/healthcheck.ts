// The worker image's HEALTHCHECK: exits 0 while WORKER_HEARTBEAT_FILE is fresh, 1 otherwise.
import { statSync } from 'node:fs'
import { HEARTBEAT_STALE_MS } from './heartbeat.ts'

const file = process.env.WORKER_HEARTBEAT_FILE
if (!file) {
  process.stderr.write('WORKER_HEARTBEAT_FILE is not set\n')
  process.exit(1)
}
try {
  const age = Date.now() - statSync(file).mtimeMs
  if (age > HEARTBEAT_STALE_MS) {
    process.stderr.write(`heartbeat ${Math.round(age / 1000)} s old\n`)
    process.exit(1)
  }
} catch {
  process.stderr.write(`no heartbeat at ${file}\n`)
  process.exit(1)
}
