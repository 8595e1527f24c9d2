// The container images' install step, also replayed by scripts/image-install.test.ts so CI proves
// an image's contents without Docker:
//
//   node scripts/image-install.ts TARGET @xeno/api [@xeno/worker …]
//
// It copies into TARGET only what runs — the workspace manifests, the lockfile and the sources
// (tests left out) of the apps' production workspace closure — then runs
// `pnpm install --prod --frozen-lockfile --filter-prod APP...` there. Workspace packages stay
// where they are (TARGET/packages/x, linked from node_modules/@xeno/x), never copied under
// node_modules: Node refuses to strip types from .ts files under node_modules
// (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING), which is what a `pnpm deploy` layout runs into.
// When apps/web exists, its `build` runs and apps/web/dist is copied, for the API to serve.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

type Manifest = {
  name: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

export type WorkspacePackage = { name: string; dir: string; manifest: Manifest }

/** Every workspace package (apps/*, packages/*) of a checkout, by name. */
export function workspacePackages(root: string): Map<string, WorkspacePackage> {
  const out = new Map<string, WorkspacePackage>()
  for (const group of ['apps', 'packages']) {
    const groupDir = path.join(root, group)
    if (!existsSync(groupDir)) continue
    for (const d of readdirSync(groupDir)) {
      const file = path.join(groupDir, d, 'package.json')
      if (!existsSync(file)) continue
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest
      out.set(manifest.name, { name: manifest.name, dir: path.join(group, d), manifest })
    }
  }
  return out
}

/** The apps and every workspace package they reach through `dependencies` (not dev ones). */
export function productionClosure(
  packages: Map<string, WorkspacePackage>,
  apps: string[],
): WorkspacePackage[] {
  const seen = new Map<string, WorkspacePackage>()
  const visit = (name: string) => {
    if (seen.has(name)) return
    const pkg = packages.get(name)
    if (!pkg) throw new Error(`unknown workspace package ${name}`)
    seen.set(name, pkg)
    for (const [dep, spec] of Object.entries(pkg.manifest.dependencies ?? {}))
      if (spec.startsWith('workspace:')) visit(dep)
  }
  for (const a of apps) visit(a)
  return [...seen.values()]
}

/** Test files and test helpers: never part of an image. */
function isTestOnly(file: string): boolean {
  return /\.test\.ts$/.test(file) || /(^|\/)testing\.ts$/.test(file) || /(^|\/)test\//.test(file)
}

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' })
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (exit ${r.status ?? r.signal})`)
}

/** Performs the image install of apps from the checkout at root into target. */
export function imageInstall(root: string, target: string, apps: string[]): void {
  if (apps.length === 0) throw new Error('name at least one app, e.g. @xeno/api')
  const packages = workspacePackages(root)
  mkdirSync(target, { recursive: true })
  // The lockfile covers every importer: every manifest goes in (a few bytes each) so
  // --frozen-lockfile sees the workspace it was written for; only the closure's sources follow.
  for (const f of ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', '.npmrc'])
    if (existsSync(path.join(root, f))) cpSync(path.join(root, f), path.join(target, f))
  for (const pkg of packages.values())
    cpSync(path.join(root, pkg.dir, 'package.json'), path.join(target, pkg.dir, 'package.json'))
  for (const pkg of productionClosure(packages, apps)) {
    const src = path.join(root, pkg.dir, 'src')
    if (!existsSync(src)) continue
    cpSync(src, path.join(target, pkg.dir, 'src'), {
      recursive: true,
      filter: (from) => statSync(from).isDirectory() || !isTestOnly(path.relative(root, from)),
    })
  }

  // The web front end, built here (the image holds its output only).
  const web = path.join(root, 'apps', 'web')
  if (existsSync(path.join(web, 'package.json'))) {
    const webName = (JSON.parse(readFileSync(path.join(web, 'package.json'), 'utf8')) as Manifest)
      .name
    // A fresh build stage has no dev dependencies yet; a developer's checkout has them.
    if (!existsSync(path.join(web, 'node_modules')))
      run('pnpm', ['install', '--frozen-lockfile', '--filter', `${webName}...`], root)
    run('pnpm', ['--dir', web, 'run', 'build'], root)
    cpSync(path.join(web, 'dist'), path.join(target, 'apps', 'web', 'dist'), { recursive: true })
  }

  run(
    'pnpm',
    [
      'install',
      '--prod',
      '--frozen-lockfile',
      '--config.confirmModulesPurge=false',
      ...apps.flatMap((a) => ['--filter-prod', `${a}...`]),
    ],
    target,
  )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [target, ...apps] = process.argv.slice(2)
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
  if (!target) {
    process.stderr.write('usage: node scripts/image-install.ts TARGET @xeno/api [@xeno/worker …]\n')
    process.exit(2)
  }
  try {
    imageInstall(root, path.resolve(target), apps)
  } catch (err) {
    process.stderr.write(`image install failed: ${(err as Error).message}\n`)
    process.exit(1)
  }
}
