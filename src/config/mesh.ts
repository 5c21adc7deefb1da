import { readFileSync } from 'node:fs'
import path from 'node:path'
import { TargetUrlError } from '../errors.js'
import { errorCode } from './checks.js'
import { parseTargetUrl } from './target-url.js'
import type { Problems } from './problems.js'
import type { Config } from './schema.js'

const SELF_ENV = 'SYNCPLANE_MESH_SELF'
const SECRET_ENV = 'SYNCPLANE_MESH_SECRET'

/** The mesh as the service runs it: which peer this node is, and the secrets, kept apart from the configuration. */
export interface MeshSettings {
  self: string
  secret: string
  /** rsync daemon passwords by peer name. */
  passwords: ReadonlyMap<string, string>
}

/**
 * The mesh's rules and secrets: the peers have unique names and URLs rsync
 * can push to, this node is one of them (mesh.self or SYNCPLANE_MESH_SELF,
 * so one file is deployed unchanged everywhere), the secret is long enough.
 * Also: one-way targets or a mesh, at least one of them.
 */
export function readMesh (config: Config, from: { env: Record<string, string | undefined>, baseDir: string }, problems: Problems): MeshSettings | undefined {
  const add = (line: string): void => problems.add('mesh', line)
  const mesh = config.mesh
  if (mesh === undefined) {
    if (config.targets.length === 0) problems.add('mesh', 'targets: name at least one target, or configure a mesh')
    return undefined
  }
  const names = new Set<string>()
  const passwords = new Map<string, string>()
  mesh.peers.forEach((peer, i) => {
    const key = `mesh.peers[${i}]`
    if (names.has(peer.name)) add(`${key}.name: "${peer.name}" is used by another peer`)
    names.add(peer.name)
    let kind
    try {
      kind = parseTargetUrl(peer.url).kind
    } catch (err) {
      if (!(err instanceof TargetUrlError)) throw err
      add(`${key}.url: ${err.message}`)
      return
    }
    if (kind === 'daemon' && !/^rsync:\/\/[^/]+\/[^/]+\/?$|^[^/]+::[^/]+\/?$/.test(peer.url)) {
      add(`${key}.url: a mesh peer is a whole module (its path is the peer's source), e.g. rsync://host/uploads/`)
    }
    if (kind !== 'daemon' && (peer.passwordFile !== undefined || peer.passwordEnv !== undefined)) add(`${key}: passwordFile and passwordEnv apply only to rsync daemon peers (rsync://…)`)
    if (kind !== 'ssh' && peer.ssh !== undefined) add(`${key}.ssh: applies only to SSH peers (host:/path)`)
    if (peer.passwordFile !== undefined) {
      const file = path.resolve(from.baseDir, peer.passwordFile)
      try {
        const first = readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? ''
        if (first === '') add(`${key}.passwordFile: "${file}" is empty`)
        else passwords.set(peer.name, first)
      } catch (err) {
        add(`${key}.passwordFile: cannot read "${file}": ${errorCode(err)}`)
      }
    }
    if (peer.passwordEnv !== undefined) {
      const value = from.env[peer.passwordEnv]
      if (value === undefined || value === '') add(`${key}.passwordEnv: environment variable ${peer.passwordEnv} is not set`)
      else passwords.set(peer.name, value)
    }
  })
  const self = mesh.self ?? from.env[SELF_ENV]
  if (self === undefined || self === '') add(`mesh.self: say which peer this node is (mesh.self, or the ${SELF_ENV} environment variable)`)
  else if (!names.has(self)) add(`mesh.self: "${self}" is not one of mesh.peers (${[...names].join(', ')})`)
  let secret = mesh.secret
  if (mesh.secretFile !== undefined) {
    const file = path.resolve(from.baseDir, mesh.secretFile)
    try {
      secret = readFileSync(file, 'utf8').split(/\r?\n/)[0] ?? ''
    } catch (err) {
      add(`mesh.secretFile: cannot read "${file}": ${errorCode(err)}`)
    }
  }
  if (mesh.secret !== undefined && mesh.secretFile !== undefined) add('mesh: set secret or secretFile, not both')
  secret ??= from.env[SECRET_ENV]
  if (secret === undefined || secret.length < 16) add(`mesh.secret: the peers need a shared secret of at least 16 characters (mesh.secret, mesh.secretFile or ${SECRET_ENV})`)
  if (self === undefined || secret === undefined) return undefined
  return { self, secret, passwords }
}
