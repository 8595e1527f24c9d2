export type HealthDeps = {
  pingDb: () => Promise<boolean>
  pingRedis: () => Promise<boolean>
}

export type HealthReport = {
  status: 'ok' | 'degraded'
  checks: { database: 'up' | 'down'; redis: 'up' | 'down' }
}

/** Readiness of the process's dependencies, as /api/health reports it. */
export function createHealthService(deps: HealthDeps) {
  return {
    async check(): Promise<HealthReport> {
      const [database, redis] = await Promise.all([deps.pingDb(), deps.pingRedis()])
      return {
        status: database && redis ? 'ok' : 'degraded',
        checks: { database: database ? 'up' : 'down', redis: redis ? 'up' : 'down' },
      }
    },
  }
}

export type HealthService = ReturnType<typeof createHealthService>
