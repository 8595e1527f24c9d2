import type { JobHandler } from '../worker.ts'

/** Deletes OAuth install states past their lifetime (anonymous installs create them). */
export function sweepOAuthStatesJob(deps: {
  sweep: () => Promise<number>
}): JobHandler<'sweep-oauth-states'> {
  return async (_payload, { log }) => {
    const deleted = await deps.sweep()
    if (deleted > 0) log.info({ deleted }, 'expired OAuth states deleted')
    return { deleted }
  }
}
