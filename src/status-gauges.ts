import { Gauge, type Registry } from 'prom-client'
import { TARGET_STATES, type SyncEngine } from './sync/engine.js'
import { WATCHER_STATES } from './watcher/watcher.js'
import { PEER_STATES } from './mesh/peer-link.js'
import type { MeshStatus } from './mesh/mesh.js'

/**
 * The value read once per scrape. prom-client calls every collect() of a
 * scrape in one synchronous pass, so a value kept until the next microtask
 * serves them all: every gauge shows the same moment, and a scrape computes
 * the engine's status (a pass over each backlog) and the mesh's (counts in
 * the database) once instead of once per gauge. Outside a scrape nothing is
 * kept.
 */
function oncePerScrape<T> (read: () => T): () => T {
  let kept: { value: T } | null = null
  return () => {
    if (kept === null) {
      kept = { value: read() }
      queueMicrotask(() => { kept = null })
    }
    return kept.value
  }
}

/**
 * The gauges read from the engine's (and the mesh's) status at scrape time:
 * nothing to keep up to date between scrapes, and never a value /v1/status
 * would not show. A target or peer removed by a reload loses its series.
 */
export function registerStatusGauges (registry: Registry, engine: Pick<SyncEngine, 'status'>, mesh?: { status (): MeshStatus }): void {
  const engineStatus = oncePerScrape(() => engine.status())

  /** One series per named thing (a target, a peer); a null reading (never happened) is no series rather than a made-up 0. */
  const perName = <T extends { name: string }>(label: string, list: () => readonly T[]) =>
    (name: string, help: string, read: (item: T) => number | null) => new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect () {
        this.reset()
        for (const item of list()) {
          const value = read(item)
          if (value !== null) this.set({ [label]: item.name }, value)
        }
      },
    })

  /** A state set: 1 for each thing's state, 0 for the others, so `== 1` selects and every state has a series to alert on. */
  const stateOf = <T extends { name: string, state: string }>(label: string, list: () => readonly T[], states: readonly string[]) =>
    (name: string, help: string) => new Gauge({
      name,
      help,
      labelNames: [label, 'state'],
      registers: [registry],
      collect () {
        this.reset()
        for (const item of list()) for (const state of states) this.set({ [label]: item.name, state }, item.state === state ? 1 : 0)
      },
    })

  const targets = () => engineStatus().targets
  const targetGauge = perName('target', targets)
  targetGauge('syncplane_pending_paths', 'Changed paths waiting for the target', (t) => t.pending + t.inFlight)
  targetGauge('syncplane_lag_seconds', 'Age of the oldest change the target has not confirmed', (t) => t.lagMs / 1000)
  targetGauge('syncplane_target_consecutive_failures', 'Failed runs in a row', (t) => t.consecutiveFailures)
  targetGauge('syncplane_full_sync_pending', '1 while a full mirror is owed to the target', (t) => (t.fullSyncPending ? 1 : 0))
  // The held state shows only while nothing else does (a run, a failure): this says it all along.
  targetGauge('syncplane_target_deletes_held', 'Deletions the target holds back until an operator confirms them (0 when none)', (t) => t.deletesHeld?.count ?? 0)
  targetGauge('syncplane_target_last_success_timestamp_seconds', 'When a run to the target last succeeded (Unix time); absent until one has since start', (t) => (t.lastSuccessAt === null ? null : t.lastSuccessAt / 1000))
  stateOf('target', targets, TARGET_STATES)('syncplane_target_state', '1 for the state the target is in, 0 for the others')
  registry.registerMetric(new Gauge({
    name: 'syncplane_watcher_state',
    help: '1 for the watcher state in effect, 0 for the others',
    labelNames: ['state'],
    registers: [],
    collect () {
      const current = engineStatus().watcher.state
      for (const state of WATCHER_STATES) this.set({ state }, state === current ? 1 : 0)
    },
  }))

  if (mesh === undefined) return
  const meshStatus = oncePerScrape(() => mesh.status())
  const peers = () => meshStatus().peers
  const peerGauge = perName('peer', peers)
  peerGauge('syncplane_mesh_peer_owed_paths', 'Paths whose latest version the peer has not acknowledged', (p) => p.owed)
  peerGauge('syncplane_mesh_peer_lag_seconds', 'How long the oldest version owed to the peer has waited', (p) => p.lagMs / 1000)
  peerGauge('syncplane_mesh_peer_reachable', '1 when the peer answered last time, 0 when it did not (or not yet)', (p) => (p.reachable === true ? 1 : 0))
  peerGauge('syncplane_mesh_peer_consecutive_failures', 'Failed batches to the peer in a row', (p) => p.consecutiveFailures)
  peerGauge('syncplane_mesh_peer_files_sent', 'Files sent to the peer since start (a counter read at scrape time)', (p) => p.filesSent)
  peerGauge('syncplane_mesh_peer_last_contact_timestamp_seconds', 'When the peer last answered (Unix time); absent until it has since start', (p) => (p.lastContact === null ? null : Date.parse(p.lastContact) / 1000))
  stateOf('peer', peers, PEER_STATES)('syncplane_mesh_peer_state', '1 for the state the link to the peer is in, 0 for the others')
  const meshGauge = (name: string, help: string, read: (m: MeshStatus) => number) =>
    new Gauge({ name, help, registers: [registry], collect () { this.set(read(meshStatus())) } })
  meshGauge('syncplane_mesh_conflicts', 'Conflicts this node resolved or learned of (both versions kept)', (m) => m.conflicts)
  meshGauge('syncplane_mesh_deletes_held', 'Local deletions the mass-delete guard holds back until confirmed', (m) => m.deletesHeld?.count ?? 0)
}
