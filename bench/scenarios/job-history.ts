import http from 'node:http'
import path from 'node:path'
import { openDatabase } from '../../src/db/open.js'
import { migrate } from '../../src/db/migrate.js'
import { pct } from '../common.js'
import type { Harness } from '../harness.js'
import { syncplaneSystem } from '../systems.js'

/**
 * Workload 5, second half: filtered GET /v1/jobs queries against a database
 * of `settings.jobHistory.rows` jobs, over HTTP from this process.
 */

const TARGETS = ['web2', 'web3', 'backup']

/**
 * A database holding `rows` jobs over the last 29 days (inside the default
 * retention), shaped like a busy year: mostly watch-triggered incremental
 * runs, an hourly mirror per target, a few failures and API resyncs; each
 * job carried one to three paths.
 */
function seedJobHistory (file: string, rows: number): { samplePath: string } {
  const db = openDatabase(file)
  migrate(db)
  const now = Date.now()
  const span = 29 * 86_400_000
  const insertJob = db.prepare(`INSERT INTO jobs (id, target, kind, trigger, status, attempt, paths_count, files_transferred, bytes_transferred, exit_code, error, created_at, started_at, finished_at, duration_ms)
    VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const insertPath = db.prepare('INSERT OR IGNORE INTO job_paths (job_id, path) VALUES (?, ?)')
  const fill = db.transaction((from: number, to: number) => {
    for (let id = from; id < to; id++) {
      const at = now - span + Math.floor((id / rows) * span)
      const r = (id * 2654435761) % 1000
      const kind = r < 40 ? 'full' : 'incremental'
      const trigger = kind === 'full' ? (r < 2 ? 'api' : r < 4 ? 'startup' : 'periodic') : (r < 60 ? 'retry' : 'watch')
      const status = r >= 985 ? 'failed' : r >= 980 ? 'interrupted' : 'succeeded'
      const failed = status === 'failed'
      const paths = kind === 'full' ? 0 : 1 + (r % 3)
      insertJob.run(id, TARGETS[id % 3], kind, trigger, status, paths, failed ? null : paths, failed ? null : paths * 4096, failed ? 10 : 0, failed ? 'rsync error: error in socket IO (code 10)' : null, at, at + 20, at + 120, 100)
      for (let p = 0; p < paths; p++) insertPath.run(id, `uploads/${(id * 7 + p) % 100_000}/file-${(id + p) % 977}.jpg`)
    }
  })
  for (let from = 1; from <= rows; from += 50_000) fill(from, Math.min(rows + 1, from + 50_000))
  db.close()
  return { samplePath: `uploads/${(rows * 7) % 100_000}/file-${rows % 977}.jpg` }
}

export interface QueryTiming { query: string; p50Ms: number; p99Ms: number; maxMs: number }

/** Each query `times` times, one after another over one keep-alive connection. */
async function timeJobQueries (baseUrl: string, queries: string[], times: number): Promise<QueryTiming[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const get = (url: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    http.get(url, { agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    }).on('error', reject)
  })
  const out: QueryTiming[] = []
  for (const query of queries) {
    const samples: number[] = []
    for (let i = 0; i < times; i++) {
      const started = performance.now()
      const res = await get(baseUrl + query)
      samples.push(performance.now() - started)
      if (res.status !== 200) throw new Error(`${query}: HTTP ${res.status} ${res.body}`)
    }
    out.push({ query, p50Ms: pct(samples, 50), p99Ms: pct(samples, 99), maxMs: Math.max(...samples) })
  }
  agent.destroy()
  return out
}

export async function runJobHistory (h: Harness): Promise<QueryTiming[]> {
  const { rows, timesPerQuery } = h.settings.jobHistory
  process.stderr.write(`job history queries at ${rows} rows\n`)
  const { ctx, source } = await h.freshContext('jobs')
  const database = path.join(ctx.root, 'history.db')
  const seeded = seedJobHistory(database, rows)
  const system = syncplaneSystem(ctx, { database })
  await h.startReady(system, source)
  const apiUrl = system.apiUrl!
  const since = new Date(Date.now() - 3_600_000).toISOString()
  const firstPage = await fetch(`${apiUrl}/v1/jobs?target=web2`).then((r) => r.json() as Promise<{ nextCursor: number }>)
  const timings = await timeJobQueries(apiUrl, [
    '/v1/jobs',
    '/v1/jobs?target=web2',
    `/v1/jobs?target=web2&cursor=${firstPage.nextCursor}`,
    '/v1/jobs?status=failed',
    '/v1/jobs?target=web3&status=failed',
    '/v1/jobs?kind=full',
    '/v1/jobs?trigger=api',
    '/v1/jobs?target=backup&kind=full&status=failed',
    `/v1/jobs?since=${encodeURIComponent(since)}`,
    `/v1/jobs?path=${encodeURIComponent(seeded.samplePath)}`,
    '/v1/jobs?limit=500',
  ], timesPerQuery)
  await system.stop()
  return timings
}
