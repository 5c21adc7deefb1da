import type { BenchSettings } from './settings.js'
import { has, type MeshSystem } from './mesh-system.js'
import { syncplaneMesh } from './mesh-syncplane.js'
import { syncthingMesh } from './mesh-syncthing.js'
import { unisonPair } from './mesh-unison.js'

/** The systems the mesh workloads compare (mesh-system.ts says what each must offer). */

export interface MeshContender {
  name: string
  nodes: number
  /** Why it cannot run here, or null. */
  unavailable (): string | null
  make (dir: string, opts: { settings: BenchSettings, audit: boolean }): MeshSystem
}

export const MESH_CONTENDERS: readonly MeshContender[] = [
  {
    name: 'syncplane mesh',
    nodes: 3,
    unavailable: () => (has('rsync') ? null : 'rsync is not installed'),
    make: (dir, opts) => syncplaneMesh(dir, 3, opts.settings),
  },
  {
    name: 'Syncthing',
    nodes: 3,
    unavailable: () => (has('syncthing') ? null : 'syncthing is not installed (apt-get install syncthing)'),
    make: (dir, opts) => syncthingMesh(dir, 3, opts),
  },
  {
    name: 'Unison',
    nodes: 2,
    unavailable: () => (!has('unison') ? 'unison is not installed (apt-get install unison)' : has('unison-fsmonitor') || has('inotifywait') ? null : 'unison-fsmonitor and inotifywait are both missing (apt-get install inotify-tools)'),
    make: (dir, opts) => unisonPair(dir, opts.settings),
  },
]

/** The mesh systems to compare, in the tables' order; BENCH_MESH_SYSTEMS=syncplane,syncthing,unison keeps those whose name starts with one of the words. */
export function meshContenders (names?: ReadonlySet<string>): MeshContender[] {
  return MESH_CONTENDERS.filter((c) => names === undefined || [...names].some((n) => c.name.toLowerCase().startsWith(n.toLowerCase())))
}
