import { rmSync, unlinkSync } from 'node:fs'
import path from 'node:path'
import type { Logger } from 'pino'
import type { MeshFileRow, MeshStore } from '../db/mesh-store.js'
import type { LocalChanges } from './local-changes.js'
import type { EntryOutcome, ManifestEntry } from './manifest.js'
import type { VersionVector } from './version-vector.js'
import { deadWith, knownOf, seenBy, seenOf, survivorOf, vvOf } from './version-row.js'
import { copyAside, meshDir } from './tree-fs.js'

export interface ReinstateOptions {
  root: string
  store: MeshStore
  local: LocalChanges
  logger: Logger
  /** The applier's install: puts `from` at the entry's path if nothing is there, and records the version. */
  install: (e: ManifestEntry, from: string, known: VersionVector, dead: VersionVector) => EntryOutcome
}

/**
 * Of two concurrent versions, the later wins at the path and the other is
 * kept as a conflict copy; a deletion concurrent with a version leaves the
 * version. Where a winner came first and a deletion of it that had not seen
 * the loser came next, the loser must come back to the path: a node that met
 * the deletion first keeps the loser there, and every node must end alike.
 * The loser's bytes are copied from its conflict copy, which stays (peers hold it too).
 */
export function createReinstate (opts: ReinstateOptions) {
  const { root, store, local, logger } = opts

  /** Deletion `e` took `held` away, whose row holds all it beat here (and is now `known`). */
  return function reinstate (e: ManifestEntry, held: MeshFileRow, known: VersionVector): void {
    if (seenBy(seenOf(held), knownOf(e))) return
    const copies = store.copiesOf(e.path)
    if (copies.length === 0) return
    // A copy written here since it was made is a new version of the copy, no longer the one that lost.
    local.scan(copies.map((c) => c.path))
    const back = survivorOf(e, held, store.copiesOf(e.path))
    if (back === undefined) return
    let from: string | undefined
    try {
      from = copyAside(path.join(root, back.path), meshDir(root, 'staging'))
      const outcome = opts.install({ path: e.path, kind: 'file', deleted: false, vv: vvOf(back), hlc: back.hlc, origin: back.origin }, from, known, deadWith(held, e))
      // Owed to every peer: one that met `e` alone holds the deletion. Not applied: an application made the path
      // meanwhile, a local version that has seen all this.
      if (outcome === 'applied') {
        local.owe(e.path)
        // Said, since a file a peer deleted comes back: the deletion had not seen this version.
        logger.info({ path: e.path, copy: back.path, origin: back.origin, deletedBy: e.origin }, 'a deletion removed a conflict\'s winner it had seen, not the loser: the loser is back at the path')
      } else {
        unlinkSync(from)
      }
    } catch (err) {
      // A full disk, say: the deletion stands here (its move is done), the copy keeps the bytes.
      logger.warn({ err, path: e.path, copy: back.path }, 'a version a deletion had not seen could not be put back at its path; its conflict copy keeps it')
      if (from !== undefined) rmSync(from, { force: true })
    }
  }
}
