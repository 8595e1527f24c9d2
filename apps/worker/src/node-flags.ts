// The V8 flags every worker process runs with (package.json start scripts, Dockerfile.worker,
// `pnpm dev`, the worker-memory benchmark; a test keeps them in step). Streaming a bulk result
// allocates many short-lived objects: with V8's default young generation (semi-spaces of up to
// 32+ MB on a large machine) a worker peaks near 390 MB RSS; 4 MB semi-spaces keep it near
// 255 MB at the same speed (bench/worker-memory.bench.ts, issue 5: ≤ 300 MB).
export const WORKER_NODE_FLAGS = ['--max-semi-space-size=4'] as const
