/** Kysely database types generated from the migrated schema. */
export type * from './database.types.ts'
/** createDb, tenant/system transactions and health helpers. */
export {
  createDb,
  withTenant,
  withSystem,
  withAdmin,
  tenantContext,
  signContext,
  pingDb,
  rlsBypassReason,
  rawClientOf,
  pipelinedTransaction,
  isDatabaseBusy,
} from './create-db.ts'
export type { Database, Tx, CreateDbOptions, RawClient } from './create-db.ts'
/** Migration runner used by the CLI and by AUTO_MIGRATE. */
export {
  migrateToLatest,
  rollback,
  makeMigration,
  latestMigrationName,
  schemaStatus,
} from './migrator.ts'
export type { SchemaStatus } from './migrator.ts'
/** Citus: the distribution plan read from the catalog, and its application (`pnpm db:distribute`). */
export {
  applyDistribution,
  distributionPlan,
  distributionStatements,
  hasCitus,
  planDistribution,
  readCatalog,
  referenceReason,
} from './distribution.ts'
export type { CatalogTable, DistributionStep } from './distribution.ts'
export { sql } from 'kysely'
