/** The API's Fastify factory (used by main.ts, tests and benchmarks). */
export { buildApp } from './app.ts'
export type { AppDeps, App, Principal } from './app.ts'
