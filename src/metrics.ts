import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { SyncEngine } from './sync/engine.js'
import { WATCHER_STATES } from './watcher/watcher.js'
import type { MeshStatus } from './mesh/mesh.js'

export type Metrics = ReturnType<typeof createMetrics>

/**
 * Prometheus metrics on a registry of our own (prom-client's global one
 * would leak between instances and tests). Counters follow engine events;
 * gauges are read from the engine's status at scrape time.
 */
export function createMetrics (engine: Pick<SyncEngine, 'subscribe' | 'status'>, mesh?: { status (): MeshStatus }) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  const jobs = new Counter({ name: 'syncplane_jobs_total', help: 'Finished rsync runs', labelNames: ['target', 'kind', 'status'] as const, registers: [registry] })
  const duration = new Histogram({
    name: 'syncplane_job_duration_seconds',
    help: 'Duration of finished rsync runs',
    labelNames: ['target', 'kind'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200],
    registers: [registry],
  })
  const bytes = new Counter({ name: 'syncplane_transferred_bytes_total', help: 'Size of the files rsync transferred', labelNames: ['target'] as const, registers: [registry] })
  const files = new Counter({ name: 'syncplane_transferred_files_total', help: 'Files rsync transferred', labelNames: ['target'] as const, registers: [registry] })
  const events = new Counter({ name: 'syncplane_watcher_events_total', help: 'Changed paths reported by the watcher', registers: [registry] })

  /** Gauges with one series per named thing (a target, a peer), read at scrape time. */
  const perName = <T extends { name: string }>(label: string, list: () => readonly T[]) =>
    (name: string, help: string, read: (item: T) => number) => new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      collect () {
        this.reset()
        for (const item of list()) this.set({ [label]: item.name }, read(item))
      },
    })
  const targetGauge = perName('target', () => engine.status().targets)
  targetGauge('syncplane_pending_paths', 'Changed paths waiting for the target', (t) => t.pending + t.inFlight)
  targetGauge('syncplane_lag_seconds', 'Age of the oldest change the target has not confirmed', (t) => t.lagMs / 1000)
  targetGauge('syncplane_target_consecutive_failures', 'Failed runs in a row', (t) => t.consecutiveFailures)
  targetGauge('syncplane_full_sync_pending', '1 while a full mirror is owed to the target', (t) => (t.fullSyncPending ? 1 : 0))
  registry.registerMetric(new Gauge({
    name: 'syncplane_watcher_state',
    help: '1 for the watcher state in effect, 0 for the others',
    labelNames: ['state'] as const,
    registers: [],
    collect () {
      const current = engine.status().watcher.state
      for (const state of WATCHER_STATES) this.set({ state }, state === current ? 1 : 0)
    },
  }))

  if (mesh !== undefined) {
    const peerGauge = perName('peer', () => mesh.status().peers)
    peerGauge('syncplane_mesh_peer_owed_paths', 'Paths whose latest version the peer has not acknowledged', (p) => p.owed)
    peerGauge('syncplane_mesh_peer_lag_seconds', 'How long the oldest version owed to the peer has waited', (p) => p.lagMs / 1000)
    peerGauge('syncplane_mesh_peer_reachable', '1 when the peer answered last time, 0 when it did not (or not yet)', (p) => (p.reachable === true ? 1 : 0))
    peerGauge('syncplane_mesh_peer_consecutive_failures', 'Failed batches to the peer in a row', (p) => p.consecutiveFailures)
    peerGauge('syncplane_mesh_peer_files_sent', 'Files sent to the peer since start (a counter read at scrape time)', (p) => p.filesSent)
    const meshGauge = (name: string, help: string, read: (m: MeshStatus) => number) =>
      new Gauge({ name, help, registers: [registry], collect () { this.set(read(mesh.status())) } })
    meshGauge('syncplane_mesh_conflicts', 'Conflicts this node resolved or learned of (both versions kept)', (m) => m.conflicts)
    meshGauge('syncplane_mesh_deletes_held', 'Local deletions the mass-delete guard holds back until confirmed', (m) => m.deletesHeld?.count ?? 0)
  }

  engine.subscribe((event) => {
    if (event.type !== 'job.finished') return
    const { job } = event
    jobs.inc({ target: job.target, kind: job.kind, status: job.status })
    if (job.durationMs !== null) duration.observe({ target: job.target, kind: job.kind }, job.durationMs / 1000)
    if (job.bytesTransferred !== null) bytes.inc({ target: job.target }, job.bytesTransferred)
    if (job.filesTransferred !== null) files.inc({ target: job.target }, job.filesTransferred)
  })

  return {
    contentType: registry.contentType,
    watcherEvents (count: number): void {
      events.inc(count)
    },
    render (): Promise<string> {
      return registry.metrics()
    },
  }
}
