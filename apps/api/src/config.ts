import {
  authEnv,
  databaseEnv,
  httpEnv,
  logEnv,
  parseEnv,
  redisEnv,
  secretsEnv,
  shopifyEnv,
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
})
export type ApiConfig = z.output<typeof apiEnv>

/** Parses the API's environment; throws one ConfigError naming every bad variable. */
export function loadApiConfig(env: Record<string, string | undefined>): ApiConfig {
  return parseEnv(apiEnv, env)
}
