import { writeFileSync } from 'node:fs'

/** How often the heartbeat is written, and how old it may be before the worker counts as dead. */
export const HEARTBEAT_EVERY_MS = 5_000
export const HEARTBEAT_STALE_MS = 30_000

/**
 * Touches file every few seconds while alive() holds (Redis connected, every BullMQ worker
 * running). A worker has no HTTP port of its own: the container's HEALTHCHECK reads this file's
 * age instead (apps/worker/src/healthcheck.ts), so a wedged event loop or a lost Redis shows.
 */
export function startHeartbeat(deps: { file: string; alive: () => boolean }) {
  const beat = () => {
    if (deps.alive()) writeFileSync(deps.file, String(Date.now()))
  }
  beat()
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}
