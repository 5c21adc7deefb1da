import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { SyncEngine } from './sync/engine.js'
import type { MeshStatus } from './mesh/mesh.js'
import { registerStatusGauges } from './status-gauges.js'

export type Metrics = ReturnType<typeof createMetrics>

/** The labels of one answered HTTP request; `route` is the route's template, never the raw URL. */
export interface RequestLabels {
  method: string
  route: string
  status_code: string
}

export interface MetricsOptions {
  engine: Pick<SyncEngine, 'subscribe' | 'status'>
  mesh?: { status (): MeshStatus } | undefined
  /** syncplane's version, for syncplane_build_info. */
  version: string
}

/**
 * Prometheus metrics on a registry of our own (prom-client's global one
 * would leak between instances and tests). Counters follow engine events;
 * gauges are read from the engine's status at scrape time (status-gauges.ts);
 * the HTTP layer reports each answered request.
 */
export function createMetrics ({ engine, mesh, version }: MetricsOptions) {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })

  // The info-metric pattern: a constant 1 whose labels a query joins on (`* on() group_left(version)`).
  new Gauge({
    name: 'syncplane_build_info',
    help: 'Always 1: the syncplane version and the Node.js version it runs on',
    labelNames: ['version', 'node_version'] as const,
    registers: [registry],
  }).set({ version, node_version: process.version }, 1)

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
  const requests = new Histogram({
    name: 'syncplane_http_request_duration_seconds',
    help: 'Time from a request\'s arrival to its answer, by route template (event streams are not counted)',
    labelNames: ['method', 'route', 'status_code'] as const,
    // Probes and status answer in milliseconds; a flush or a resync with wait=true waits for rsync (a flush up to an hour).
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600],
    registers: [registry],
  })
  registerStatusGauges(registry, engine, mesh)

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
    observeRequest (labels: RequestLabels, seconds: number): void {
      requests.observe(labels, seconds)
    },
    render (): Promise<string> {
      return registry.metrics()
    },
  }
}
