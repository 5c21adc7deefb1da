import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestContext } from 'node:test'
import { spawnManaged, type ManagedProcess } from './managed-process.js'
import { startRsyncDaemon, type RsyncDaemon } from './rsync-daemon.js'
import { makeTempDir, type TempDir } from './temp-dir.js'
import { snapshotTree, diffSnapshots, type Snapshot } from './tree.js'
import { waitFor } from './wait-for.js'
import { getFreePort } from './free-port.js'
import { SERVICE_ENV, SERVICE_NODE_ARGS } from '../../bench/common.js'

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))
export const SECRET = 'mesh-test-secret-0123456789'

/** One node of a test mesh: its tree, its rsync daemon (module = the tree), its syncplane (the built service). */
export interface MeshNode {
  name: string
  /** The replicated tree. */
  root: string
  daemon: RsyncDaemon
  url: string
  api (route: string, init?: { method?: string, body?: unknown }): Promise<{ status: number, body: any }>
  /** Starts the service (again, after kill or stop). */
  start (): Promise<void>
  /** SIGKILL the service (and, with `daemon`, the rsync daemon too). */
  kill (opts?: { daemon?: boolean }): Promise<void>
  /** SIGTERM, waiting for a clean exit. */
  stop (): Promise<void>
  output (): string
}

export interface MeshOptions {
  nodes: number
  /** Merged into every node's configuration (mesh keys go under `mesh`). */
  config?: Record<string, unknown>
  mesh?: Record<string, unknown>
  /** Runs once every node's directory and config file exist, before any service starts (e.g. to mount a volume at a tree). */
  beforeStart?: (nodes: MeshNode[], dir: TempDir) => Promise<void>
}

/**
 * N nodes on loopback, each with its own directory, rsync daemon (with
 * auth) and syncplane process, named n0, n1, …; every one of them started
 * from the same mesh section (only SYNCPLANE_MESH_SELF differs), as a fleet
 * would deploy it. Everything is stopped and removed after the test.
 */
export async function startMesh (t: TestContext, opts: MeshOptions): Promise<MeshNode[]> {
  // Everything below registers its teardown with the directory: stopped in reverse order, then the directory removed.
  const dir = await makeTempDir(t, 'syncplane-mesh-')
  const names = Array.from({ length: opts.nodes }, (_, i) => `n${i}`)
  const daemons: RsyncDaemon[] = []
  const ports: number[] = []
  for (const name of names) {
    const root = path.join(dir.path, name, 'tree')
    await mkdir(root, { recursive: true })
    const daemon = await startRsyncDaemon({ root: path.join(dir.path, name, 'daemon'), modulePath: root })
    dir.after(() => daemon.stop())
    daemons.push(daemon)
    ports.push(await getFreePort())
  }
  const env: Record<string, string> = { SYNCPLANE_MESH_SECRET: SECRET }
  const peers = names.map((name, i) => {
    env[`MESH_PW_${i}`] = daemons[i]!.password
    return { name, api: `http://127.0.0.1:${ports[i]}`, url: daemons[i]!.url, passwordEnv: `MESH_PW_${i}` }
  })
  const nodes = names.map((name, i) => {
    const root = path.join(dir.path, name, 'tree')
    const configFile = path.join(dir.path, name, 'config.yaml')
    const url = `http://127.0.0.1:${ports[i]}`
    let proc: ManagedProcess | undefined
    /** Set while the test ends the process itself: any other exit is a crash, printed with the node's last words. */
    let ending = false
    const node: MeshNode = {
      name,
      root,
      daemon: daemons[i]!,
      url,
      async api (route, init = {}) {
        const res = await fetch(url + route, {
          method: init.method ?? 'GET',
          ...(init.body === undefined ? {} : { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }),
        })
        const text = await res.text()
        return { status: res.status, body: text === '' ? null : JSON.parse(text) }
      },
      async start () {
        // As every launcher starts it (npm start, the image, the systemd unit).
        proc = await spawnManaged(process.execPath, [...SERVICE_NODE_ARGS, CLI, 'serve', '--config', configFile], { env: { ...process.env, ...SERVICE_ENV, ...env, SYNCPLANE_MESH_SELF: name } })
        const started = proc
        ending = false
        void started.exited.then((info) => {
          if (!ending) console.log(`${name} exited on its own (${info.code ?? info.signal}); its last output:\n${started.output().slice(-8_000)}`)
        })
        await waitFor(async () => !started.isRunning() ? Promise.reject(new Error(`${name} exited:\n${started.output()}`)) : (await node.api('/v1/mesh')).status === 200,
          { timeoutMs: 60_000, message: `${name} did not start` })
      },
      async kill (killOpts = {}) {
        ending = true
        proc?.signalTree('SIGKILL')
        await proc?.exited
        if (killOpts.daemon === true) await daemons[i]!.stop()
      },
      async stop () {
        ending = true
        await proc?.stop({ timeoutMs: 20_000 })
      },
      output: () => proc?.output() ?? '',
    }
    dir.after(() => node.stop())
    return node
  })
  for (const [i, node] of nodes.entries()) {
    await writeFile(path.join(dir.path, node.name, 'config.yaml'), JSON.stringify({
      source: node.root,
      database: path.join(dir.path, node.name, 'db.sqlite'),
      logLevel: 'warn',
      api: { host: '127.0.0.1', port: ports[i] },
      retry: { initialDelayMs: 200, maxDelayMs: 2_000 },
      ...opts.config,
      mesh: { peers, rescanSec: 10, ...opts.mesh },
    }, null, 2))
  }
  await opts.beforeStart?.(nodes, dir)
  await Promise.all(nodes.map((n) => n.start()))
  return nodes
}

/** A tree without syncplane's own directory. */
export function snapshotNode (node: MeshNode): Promise<Snapshot> {
  return snapshotTree(node.root, { ignore: (rel) => rel === '.syncplane' || rel.startsWith('.syncplane/') })
}

/**
 * Waits until every node says it is idle and every node's tree is the same
 * as the first's; returns the tree. Idle is asked first and again after the
 * trees are read: three status calls, where reading the trees hashes every
 * file (seconds on a loaded machine, taken from the mesh catching up).
 */
export async function waitConverged (nodes: readonly MeshNode[], timeoutMs = 60_000): Promise<Snapshot> {
  // What the last probe found, named in the timeout error (read then, not when the wait began).
  let last: string[] = []
  const busy = async (): Promise<string[]> => (await Promise.all(nodes.map(async (n) => {
    const body = (await n.api('/v1/mesh')).body
    if (body?.idle === true) return null
    const owed = (body?.peers as Array<{ name: string, owed: number, state: string, consecutiveFailures: number }> | undefined ?? [])
      .map((p) => `${p.name} owed ${p.owed} (${p.state}, ${p.consecutiveFailures} failures)`)
    return `${n.name} not idle: ${owed.join(', ')}; waiting ${JSON.stringify(body?.waiting)}`
  }))).filter((b): b is string => b !== null)
  return (await waitFor<Snapshot | false>(async () => {
    last = await busy()
    if (last.length > 0) return false
    const snaps = await Promise.all(nodes.map(snapshotNode))
    for (let i = 1; i < snaps.length; i++) last.push(...diffSnapshots(snaps[0]!, snaps[i]!).map((d) => `${nodes[0]!.name}/${nodes[i]!.name}: ${d}`))
    if (last.length > 0) return false
    last = await busy()
    return last.length === 0 ? snaps[0]! : false
  }, {
    timeoutMs,
    intervalMs: 250,
    message: () => `the mesh did not converge (${last.length} left): ${last.slice(0, 10).join('; ')}`,
  })) as Snapshot
}
