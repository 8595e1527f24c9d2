// Test helpers shared by the apps' tests (never imported by production code).
import { spawnSync } from 'node:child_process'

/**
 * Runs Prometheus' own `promtool check …` (Debian's `prometheus` package) on `input` (stdin) or
 * on files. Returns undefined when promtool is not installed, unless XENO_REQUIRE_TOOLS=1
 * (.ci/run sets it), which turns a missing promtool into a failure.
 */
export function promtool(
  args: string[],
  input?: string,
): { status: number; output: string } | undefined {
  const run = spawnSync('promtool', args, { input, encoding: 'utf8' })
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    if (process.env.XENO_REQUIRE_TOOLS === '1')
      throw new Error('promtool is not installed (apt-get install prometheus)')
    return undefined
  }
  return { status: run.status ?? -1, output: `${run.stdout}${run.stderr}` }
}
