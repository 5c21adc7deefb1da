import { test } from 'node:test'
import assert from 'node:assert/strict'
import { getPriority } from 'node:os'
import { SECRET } from '../helpers/mesh.js'
import { makeTempDir } from '../helpers/temp-dir.js'
import { spawnService, type ServiceProcess } from '../helpers/service-process.js'
import { startTarget } from '../helpers/targets.js'
import { threadsAt } from '../helpers/threads.js'
import { waitFor } from '../helpers/wait-for.js'

const NICE = 7
// A lone node: its peer never answers, its watch runs all the same.
const MESH = {
  self: 'web1',
  secret: SECRET,
  peers: [
    { name: 'web1', api: 'http://127.0.0.1:1', url: 'rsync://sync@127.0.0.1:2/uploads/' },
    { name: 'web2', api: 'http://127.0.0.1:3', url: 'rsync://sync@127.0.0.1:4/uploads/' },
  ],
}

/** The built service's threads at threads.nice above its own, once its watch runs (the lookup thread starts only for a big batch). */
async function nicedThreads (svc: ServiceProcess): Promise<number> {
  await waitFor(async () => (await svc.api('/v1/status')).body.watcher?.state === 'running', { message: 'the watch runs', timeoutMs: 30_000 })
  const pid = svc.proc.child.pid!
  return threadsAt(Math.min(19, getPriority(pid) + NICE), pid)
}

test('the watcher takes events in on a niced thread of its own for one-way replication, on the service thread of a mesh node, and threads.watcher overrides either', async (t) => {
  const tmp = await makeTempDir(t)
  const target = await startTarget(tmp, 'local')
  const start = (name: string, threads: object, rest: object, env?: Record<string, string>): Promise<ServiceProcess> =>
    spawnService(tmp, { name, config: { source: `${tmp.path}/${name}`, database: `${tmp.path}/${name}.db`, threads: { nice: NICE, ...threads }, ...rest }, env })
  const oneWay = await start('one-way', {}, { targets: [target.config] }, target.env)
  const oneWayOnService = await start('one-way-service', { watcher: 'service' }, { targets: [target.config] }, target.env)
  const mesh = await start('mesh', {}, { mesh: MESH })
  const meshOnOwn = await start('mesh-own', { watcher: 'own' }, { mesh: MESH })

  assert.equal(await nicedThreads(oneWay), 1, 'one-way, auto: the watcher thread')
  assert.equal(await nicedThreads(oneWayOnService), 0, 'one-way, service: none')
  assert.equal(await nicedThreads(mesh), 0, 'mesh, auto: none')
  assert.equal(await nicedThreads(meshOnOwn), 1, 'mesh, own: the watcher thread')
})
