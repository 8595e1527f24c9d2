/** The worker factory (used by main.ts and tests). */
export { createWorker } from './worker.ts'
export type { WorkerDeps, JobHandlers, JobHandler, JobContext, XenoWorker } from './worker.ts'
export { parseWorkerArgs } from './config.ts'
export { WORKER_NODE_FLAGS } from './node-flags.ts'
