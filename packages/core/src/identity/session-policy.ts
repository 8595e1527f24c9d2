/** How long a session lives: idle (since last use) and absolute (since login). */
export type SessionPolicy = { idleMs: number; absoluteMs: number }

/** 30 minutes idle, 12 hours absolute. */
export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  idleMs: 30 * 60_000,
  absoluteMs: 12 * 3_600_000,
}

// last_seen_at is written at most once a minute per session, so a busy session costs reads only;
// idle expiry is therefore accurate to about a minute.
const TOUCH_EVERY_MS = 60_000

type SessionTimes = { lastSeenAt: Date; expiresAt: Date; revokedAt: Date | null }

/** True while the session is neither revoked, past its absolute expiry, nor idle too long. */
export function sessionIsLive(s: SessionTimes, now: Date, policy: SessionPolicy): boolean {
  if (s.revokedAt) return false
  if (s.expiresAt.getTime() <= now.getTime()) return false
  return s.lastSeenAt.getTime() + policy.idleMs > now.getTime()
}

/** True when last_seen_at is old enough to be worth writing again. */
export function sessionNeedsTouch(s: SessionTimes, now: Date): boolean {
  return now.getTime() - s.lastSeenAt.getTime() >= TOUCH_EVERY_MS
}
