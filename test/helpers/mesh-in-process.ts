import assert from 'node:assert/strict'
import { copyFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { MeshStore } from '../../src/db/mesh-store.js'
import type { LocalChanges } from '../../src/mesh/local-changes.js'
import type { ApplyBatch } from '../../src/mesh/apply-batch.js'
import type { ManifestEntry } from '../../src/mesh/manifest.js'
import { entryOf } from '../../src/mesh/version-row.js'
import { createMeshReceiver } from './mesh-receiver.js'
import { snapshotTree, diffSnapshots } from './tree.js'
import type { Teardown } from './teardown.js'

export interface InProcessNode { name: string, root: string, store: MeshStore, local: LocalChanges, applier: ApplyBatch }

/**
 * Nodes in process, each with its tree, store and applier, and delivery
 * done by hand the way a peer link does it: what a node owes a peer goes as
 * the row it holds for the path *now*, its file staged on the peer first,
 * and the entries answered leave the queue. Torn down with the test.
 */
export async function createInProcessMesh (t: Teardown, names: readonly string[], prefix: string) {
  const nodes: InProcessNode[] = await Promise.all(names.map(async (name) => {
    const { root, store, local, applier } = await createMeshReceiver(t, { self: name, peers: names.filter((n) => n !== name), prefix })
    return { name, root, store, local, applier: applier() }
  }))
  let batches = 0

  /** What `from` owes `to`, delivered. */
  async function deliver (from: InProcessNode, to: InProcessNode): Promise<void> {
    const owed = from.store.takeRows(to.name, 1_000)
    const items = owed.map((o) => o.item)
    const staging = path.join(to.root, '.syncplane', 'staging', from.name, `b${++batches}`)
    const entries: ManifestEntry[] = []
    for (const { row } of owed) {
      if (row === undefined) throw new Error('an owed path without a row')
      entries.push(entryOf(row))
      if (row.kind === 'file' && !row.deleted) {
        await mkdir(path.dirname(path.join(staging, row.path)), { recursive: true })
        await copyFile(path.join(from.root, row.path), path.join(staging, row.path))
      }
    }
    const outcomes = to.applier.apply({ from: from.name, batch: `b${batches}`, entries }, staging)
    from.store.ack(to.name, items.filter((_, i) => outcomes[i] !== 'retry'))
  }

  /** Every node delivers what it owes until nothing is owed. */
  async function settle (message = ''): Promise<void> {
    for (let round = 0; round < 10; round++) {
      if (nodes.every((n) => names.every((peer) => n.store.owed(peer).count === 0))) return
      for (const from of nodes) for (const to of nodes) if (from !== to) await deliver(from, to)
    }
    assert.fail(`the nodes kept owing each other${message}`)
  }

  async function assertSameTrees (message = ''): Promise<void> {
    const ignore = (rel: string): boolean => rel === '.syncplane' || rel.startsWith('.syncplane/')
    const [first, ...rest] = await Promise.all(nodes.map((n) => snapshotTree(n.root, { ignore })))
    for (const [i, snap] of rest.entries()) {
      assert.deepEqual(diffSnapshots(first!, snap), [], `${nodes[0]!.name} and ${nodes[i + 1]!.name} hold the same tree${message}`)
    }
  }

  return { nodes, deliver, settle, assertSameTrees }
}
