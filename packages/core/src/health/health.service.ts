export type HealthDeps = {
  pingDb: () => Promise<boolean>
  pingRedis: () => Promise<boolean>
  /** Whether the schema has applied every migration this build ships (absent: not checked). */
  schemaCurrent?: () => Promise<boolean>
}

export type HealthReport = {
  status: 'ok' | 'degraded'
  checks: {
    database: 'up' | 'down'
    redis: 'up' | 'down'
    schema?: 'current' | 'pending'
  }
}

/** Readiness of the process's dependencies, as /api/health and /api/health/ready report it. */
export function createHealthService(deps: HealthDeps) {
  // Once the schema was seen current it stays so for this process (migrations only move forward
  // while it runs); until then every probe asks again.
  let schemaSeenCurrent = false
  return {
    async check(): Promise<HealthReport> {
      const [database, redis] = await Promise.all([deps.pingDb(), deps.pingRedis()])
      const report: HealthReport = {
        status: database && redis ? 'ok' : 'degraded',
        checks: { database: database ? 'up' : 'down', redis: redis ? 'up' : 'down' },
      }
      if (deps.schemaCurrent) {
        if (!schemaSeenCurrent && database) schemaSeenCurrent = await deps.schemaCurrent()
        report.checks.schema = schemaSeenCurrent ? 'current' : 'pending'
        if (!schemaSeenCurrent) report.status = 'degraded'
      }
      return report
    },
  }
}

export type HealthService = ReturnType<typeof createHealthService>
