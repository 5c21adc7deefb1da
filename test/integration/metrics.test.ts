import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { waitFor } from '../helpers/wait-for.js'
import { startSyncplaneTo } from '../helpers/syncplane.js'
import { parseMetrics } from '../helpers/metrics-text.js'

test('/metrics exposes jobs, durations, bytes, backlog, lag and watcher state in Prometheus format', async (t) => {
  const { sp } = await startSyncplaneTo(t, 'local', { name: 'backup' })
  await writeFile(path.join(sp.source, 'm.txt'), '12345')
  await sp.app.inject({ method: 'POST', url: '/v1/flush', payload: { paths: ['m.txt'] } })
  const metrics = await waitFor(async () => {
    const res = await sp.app.inject({ url: '/metrics' })
    assert.equal(res.statusCode, 200)
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/)
    const m = parseMetrics(res.body)
    // A change sent alongside the start-up mirror is pending again until it is re-sent after it.
    const settled = (m.get('syncplane_jobs_total{target="backup",kind="incremental",status="succeeded"}') ?? 0) >= 1 &&
      m.get('syncplane_jobs_total{target="backup",kind="full",status="succeeded"}') === 1 &&
      m.get('syncplane_pending_paths{target="backup"}') === 0
    return settled ? m : undefined
  }, { message: 'an incremental job counted and nothing pending' })
  assert.equal(metrics.get('syncplane_jobs_total{target="backup",kind="full",status="succeeded"}'), 1)
  assert.ok((metrics.get('syncplane_transferred_bytes_total{target="backup"}') ?? 0) >= 5)
  assert.ok((metrics.get('syncplane_job_duration_seconds_count{target="backup",kind="incremental"}') ?? 0) >= 1)
  assert.equal(metrics.get('syncplane_pending_paths{target="backup"}'), 0)
  assert.equal(metrics.get('syncplane_lag_seconds{target="backup"}'), 0)
  assert.equal(metrics.get('syncplane_watcher_state{state="running"}'), 1)
  assert.equal(metrics.get('syncplane_watcher_state{state="degraded"}'), 0)
  assert.ok((metrics.get('syncplane_watcher_events_total') ?? 0) >= 1)
  assert.ok(metrics.has('process_cpu_user_seconds_total'))
})

test('/readyz fails while a target lags past readiness.maxLagSec', async (t) => {
  const { target, sp } = await startSyncplaneTo(t, 'daemon', { name: 'web2', config: { readiness: { maxLagSec: 1 }, retry: { initialDelayMs: 100, maxDelayMs: 500 } } })
  assert.equal((await sp.app.inject({ url: '/readyz' })).statusCode, 200)
  await target.daemon!.stop()
  await writeFile(path.join(sp.source, 'late.txt'), 'x')
  const res = await waitFor(async () => {
    const r = await sp.app.inject({ url: '/readyz' })
    return r.statusCode === 503 ? r : undefined
  }, { message: 'readiness fails on lag' })
  assert.match(res.json().checks.lag.detail, /web2 lags \d+ s \(max 1 s\)/)
  await target.daemon!.restart()
  await waitFor(async () => (await sp.app.inject({ url: '/readyz' })).statusCode === 200, { message: 'ready again once caught up' })
})
