import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { ManagedProcess } from '../test/helpers/managed-process.js'
import { startRsyncDaemon, type RsyncDaemon } from '../test/helpers/rsync-daemon.js'
import { getFreePort } from '../test/helpers/free-port.js'
import { createAccount } from './accounting.js'
import { CLI, SERVICE_ENV, SERVICE_NODE_ARGS, waitUntil } from './common.js'
import type { BenchSettings } from './settings.js'
import { spawnCounted, stopAll, type MeshSystem } from './mesh-system.js'

/**
 * syncplane's mesh as test/helpers/mesh.ts builds it: N nodes n0…, each a
 * tree, an rsync daemon (with auth) whose module is that tree, and the
 * built service with the default configuration plus the mesh section
 * (every node started from the same section; only SYNCPLANE_MESH_SELF
 * differs). BENCH_SYNCPLANE_CONFIG and BENCH_NODE_ARGS apply to each node.
 */
export function syncplaneMesh (dir: string, n: number, settings: BenchSettings): MeshSystem {
  const names = Array.from({ length: n }, (_, i) => `n${i}`)
  const roots = names.map((name) => path.join(dir, name, 'tree'))
  const account = createAccount('syncplane-mesh')
  const daemons: RsyncDaemon[] = []
  const procs: ManagedProcess[] = []
  const urls: string[] = []
  const secret = randomBytes(16).toString('hex')

  const api = async (i: number, route: string): Promise<any> => {
    const res = await fetch(urls[i]! + route)
    if (!res.ok) throw new Error(`${urls[i]}${route}: ${res.status}`)
    return res.json()
  }

  return {
    name: 'syncplane mesh',
    setup: `${n} nodes; each the built service (default config + mesh section) and its own rsync daemon with auth on loopback; ${account.method} accounting (services, their rsync runs, the daemons and their children)`,
    roots,
    account,
    transferUnit: 'batches',
    internal: (rel) => rel === '.syncplane' || rel.startsWith('.syncplane/'),

    async start () {
      const ports: number[] = []
      for (const [i, name] of names.entries()) {
        await mkdir(roots[i]!, { recursive: true })
        const daemon = await startRsyncDaemon({ root: path.join(dir, name, 'daemon'), modulePath: roots[i]! })
        daemons.push(daemon)
        account.adopt(daemon.pid)
        ports.push(await getFreePort())
        urls.push(`http://127.0.0.1:${ports[i]}`)
      }
      const env: Record<string, string> = { SYNCPLANE_MESH_SECRET: secret }
      const peers = names.map((name, i) => {
        env[`MESH_PW_${i}`] = daemons[i]!.password
        return { name, api: urls[i]!, url: daemons[i]!.url, passwordEnv: `MESH_PW_${i}` }
      })
      for (const [i, name] of names.entries()) {
        const configFile = path.join(dir, name, 'config.yaml')
        await writeFile(configFile, JSON.stringify({
          source: roots[i],
          database: path.join(dir, name, 'db.sqlite'),
          logLevel: 'warn',
          api: { host: '127.0.0.1', port: ports[i] },
          ...settings.service.config,
          mesh: { ...(settings.service.config.mesh as object | undefined), peers },
        }, null, 2))
        procs.push(await spawnCounted(account, [process.execPath, ...SERVICE_NODE_ARGS, ...settings.service.nodeArgs, CLI, 'serve', '--config', configFile], {
          env: { ...process.env, ...SERVICE_ENV, ...env, SYNCPLANE_MESH_SELF: name },
        }))
      }
      for (const [i, proc] of procs.entries()) {
        const ok = await waitUntil(async () => {
          if (!proc.isRunning()) throw new Error(`syncplane ${names[i]} exited:\n${proc.output()}`)
          return (await api(i, '/v1/mesh').catch(() => null)) !== null
        }, 30_000, 50)
        if (!ok) throw new Error(`syncplane ${names[i]} did not start:\n${proc.output()}`)
      }
    },

    async idle () {
      const all = await Promise.all(names.map((_, i) => api(i, '/v1/mesh').catch(() => null)))
      return all.every((s) => s?.idle === true)
    },

    async transfers () {
      const all = await Promise.all(names.map((_, i) => api(i, '/v1/mesh')))
      const sum = (key: 'batchesSent' | 'filesSent'): number => all.reduce((s, m) => s + m.peers.reduce((t: number, p: Record<string, number>) => t + p[key]!, 0), 0)
      const batches = sum('batchesSent')
      return { main: batches, detail: { batches, files: sum('filesSent') } }
    },

    async stop () {
      await stopAll(procs)
      if (settings.service.log !== undefined) {
        for (const [i, p] of procs.entries()) await writeFile(settings.service.log, `--- syncplane ${names[i]}\n${p.output()}\n`, { flag: 'a' })
      }
      await Promise.all(daemons.map((d) => d.stop()))
      await account.close()
    },
  }
}
