import {
  authEnv,
  databaseEnv,
  httpEnv,
  logEnv,
  assertProductionSafe,
  parseEnv,
  redisEnv,
  secretsEnv,
  shopifyEnv,
  opsEnv,
  workerEnv,
  z,
} from '@xeno/config'

/** The API process's configuration schema. */
export const apiEnv = z.object({
  ...databaseEnv.shape,
  ...redisEnv.shape,
  ...httpEnv.shape,
  ...secretsEnv.shape,
  ...authEnv.shape,
  ...shopifyEnv.shape,
  ...logEnv.shape,
  METRICS_TOKEN: opsEnv.shape.METRICS_TOKEN,
  BULL_BOARD_READ_ONLY: opsEnv.shape.BULL_BOARD_READ_ONLY,
  // The API creates each tenant's sync schedules at install.
  SYNC_INTERVAL_MINUTES: workerEnv.shape.SYNC_INTERVAL_MINUTES,
})
export type ApiConfig = z.output<typeof apiEnv>

/** Parses the API's environment; throws one ConfigError naming every bad variable. */
export function loadApiConfig(env: Record<string, string | undefined>): ApiConfig {
  return assertProductionSafe(parseEnv(apiEnv, env))
}
