import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { parse } from 'yaml'
import { makeTempDir } from '../helpers/temp-dir.js'
import { startTarget } from '../helpers/targets.js'
import { startSyncplane, type SyncplaneHarness } from '../helpers/syncplane.js'
import { startMesh } from '../helpers/mesh.js'
import { meshStatus } from '../helpers/mesh-tools.js'
import { waitFor } from '../helpers/wait-for.js'
import { parseMetrics, seriesNames } from '../helpers/metrics-text.js'
import { promtool, promtoolSkipReason } from '../helpers/promtool.js'
import { TARGET_STATES } from '../../src/sync/engine.js'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
const noPromtool = await promtoolSkipReason()

const scrape = async (sp: SyncplaneHarness): Promise<string> => {
  const res = await sp.app.inject({ url: '/metrics' })
  assert.equal(res.statusCode, 200)
  return res.body
}

const example = (rel: string): string => new URL(`../../examples/${rel}`, import.meta.url).pathname

interface Rule { alert: string, expr: string, annotations: Record<string, string> }
const alertRules = (): Rule[] => (parse(readFileSync(example('prometheus/alerts.yml'), 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules)

/** Every PromQL expression of the example dashboard: its panels' queries and its variables'. */
function dashboardQueries (): string[] {
  const dashboard = JSON.parse(readFileSync(example('grafana/syncplane-dashboard.json'), 'utf8')) as {
    panels: Array<{ targets?: Array<{ expr: string }> }>
    templating: { list: Array<{ type: string, definition?: string }> }
  }
  const panels = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))
  // label_values(METRIC, label) queries a metric too.
  const variables = dashboard.templating.list.filter((v) => v.type === 'query').map((v) => /^label_values\((.*), *\w+\)$/.exec(v.definition!)![1]!)
  return [...panels, ...variables]
}

const metricNamesIn = (exprs: readonly string[]): Set<string> => new Set(exprs.flatMap((e) => [...e.matchAll(/\bsyncplane_[a-z0-9_]+/g)].map((m) => m[0])))

test('build info, per-target state, last success and deletions held, and request durations by route template, with real values', async (t) => {
  const tmp = await makeTempDir(t)
  const ok = await startTarget(tmp, 'daemon', 'web1')
  const down = await startTarget(tmp, 'daemon', 'web2')
  const denied = await startTarget(tmp, 'daemon', 'web3')
  const passwordEnv = denied.config.passwordEnv as string
  // Not empty: an empty source first lists the target (mirror-guard.ts), whose refusal is retried at the normal pace.
  await mkdir(path.join(tmp.path, 'source'))
  await writeFile(path.join(tmp.path, 'source', 'first.txt'), 'x')
  const sp = await startSyncplane(tmp, {
    targets: [ok.config, down.config, denied.config],
    // web3's daemon refuses the password: an error rsync retrying soon cannot fix, so the target is `failing`.
    env: { ...ok.env, ...down.env, [passwordEnv]: 'not-the-password' },
    config: { retry: { initialDelayMs: 100, maxDelayMs: 500 } },
  })
  const status = (await sp.app.inject({ url: '/v1/status' })).json()
  assert.equal(status.version, pkg.version)
  assert.ok(Date.parse(status.startedAt) <= Date.now())

  // Both daemons that accept us got their start-up mirror.
  const before = await waitFor(async () => {
    const m = parseMetrics(await scrape(sp))
    const done = ['web1', 'web2'].every((name) => m.get(`syncplane_target_state{target="${name}",state="idle"}`) === 1) &&
      m.get('syncplane_target_state{target="web3",state="failing"}') === 1
    return done ? m : undefined
  }, { message: 'web1 and web2 idle, web3 failing' })
  assert.equal(before.get(`syncplane_build_info{version="${pkg.version}",node_version="${process.version}"}`), 1)
  for (const state of TARGET_STATES) assert.equal(before.get(`syncplane_target_state{target="web1",state="${state}"}`), state === 'idle' ? 1 : 0, state)
  const lastSuccess = before.get('syncplane_target_last_success_timestamp_seconds{target="web2"}')!
  assert.ok(lastSuccess * 1000 >= Date.parse(status.startedAt) && lastSuccess * 1000 <= Date.now(), `last success ${lastSuccess}`)
  assert.equal(before.has('syncplane_target_last_success_timestamp_seconds{target="web3"}'), false, 'no series for a target that never succeeded')
  assert.ok(before.get('syncplane_target_consecutive_failures{target="web3"}')! >= 1)
  assert.equal(before.get('syncplane_target_deletes_held{target="web1"}'), 0)

  // web2's daemon goes away: its runs fail (retried soon, a connection may come back), its last success stays; web1's moves on.
  await down.daemon!.stop()
  const wroteAt = Date.now() / 1000
  await writeFile(path.join(sp.source, 'late.txt'), 'x')
  const after = await waitFor(async () => {
    const m = parseMetrics(await scrape(sp))
    return (m.get('syncplane_target_consecutive_failures{target="web2"}') ?? 0) >= 2 &&
      m.get('syncplane_target_last_success_timestamp_seconds{target="web1"}')! >= wroteAt
      ? m
      : undefined
  }, { message: 'web2 fails, web1 gets the change' })
  assert.equal(after.get('syncplane_target_last_success_timestamp_seconds{target="web2"}'), lastSuccess)
  await waitFor(async () => parseMetrics(await scrape(sp)).get('syncplane_target_state{target="web2",state="retrying"}') === 1, { message: 'web2 retrying' })

  for (const url of ['/v1/jobs/1', '/v1/jobs/2', '/v1/no-such-route', '/nowhere/42', '/healthz']) await sp.app.inject({ url })
  const text = await scrape(sp)
  const m = parseMetrics(text)
  const count = (labels: string): number => m.get(`syncplane_http_request_duration_seconds_count{${labels}}`) ?? 0
  assert.equal(count('method="GET",route="/v1/jobs/:id",status_code="200"'), 2)
  assert.equal(count('method="GET",route="unmatched",status_code="404"'), 2)
  assert.ok(count('method="GET",route="/v1/status",status_code="200"') >= 1)
  assert.ok(count('method="GET",route="/metrics",status_code="200"') >= 2)
  assert.ok(m.has('syncplane_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz",status_code="200"}'))
  // Templates and the one value for unmatched paths: never /v1/jobs/1 or /nowhere/42.
  const routes = new Set([...text.matchAll(/route="([^"]*)"/g)].map((r) => r[1]!))
  assert.deepEqual([...routes].sort(), ['/healthz', '/metrics', '/v1/jobs/:id', '/v1/status', 'unmatched'])
})

/** What `promtool check metrics` finds wrong with an exposition, but for prom-client's own names. */
async function metricsProblems (text: string): Promise<string[]> {
  const res = await promtool(['check', 'metrics'], { input: text })
  // 3: lint problems only; 1 would be an exposition promtool cannot parse.
  assert.ok(res.exitCode === 0 || res.exitCode === 3, res.output)
  // prom-client's default metrics name three gauges *_total (as every Node.js service exposes them): its names, not ours.
  const theirs = /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/
  return res.output.split('\n').filter((line) => line !== '' && !theirs.test(line))
}

test('promtool check metrics finds no problem in /metrics', { skip: noPromtool }, async (t) => {
  const tmp = await makeTempDir(t)
  const target = await startTarget(tmp, 'local', 'backup')
  const sp = await startSyncplane(tmp, { targets: [target.config] })
  await writeFile(path.join(sp.source, 'one.txt'), 'x')
  await sp.app.inject({ method: 'POST', url: '/v1/flush', payload: { paths: ['one.txt'] } })
  assert.deepEqual(await metricsProblems(await scrape(sp)), [])
})

test('mesh peers: link state, last contact and reachability; the dashboard and the alerts query only metrics /metrics declares', async (t) => {
  const [n0, n1] = await startMesh(t, { nodes: 2 })
  const metricsOf = async (): Promise<string> => {
    const res = await fetch(`${n0!.url}/metrics`)
    assert.equal(res.status, 200)
    return res.text()
  }
  const up = await waitFor(async () => {
    const m = parseMetrics(await metricsOf())
    return m.get('syncplane_mesh_peer_reachable{peer="n1"}') === 1 && m.get('syncplane_mesh_peer_state{peer="n1",state="idle"}') === 1 ? m : undefined
  }, { message: 'n1 reached', timeoutMs: 30_000 })
  assert.equal(up.get('syncplane_mesh_peer_state{peer="n1",state="failing"}'), 0)
  // A contact (a hello, a batch) may come between the scrape and the status call: compared when none did.
  const lastContact = async (): Promise<number> => parseMetrics(await metricsOf()).get('syncplane_mesh_peer_last_contact_timestamp_seconds{peer="n1"}')! * 1000
  const agreed = await waitFor(async () => {
    const before = await lastContact()
    const status = await meshStatus(n0!)
    return before === await lastContact() ? { metric: before, status: Date.parse(status.peers[0].lastContact) } : undefined
  }, { message: 'no contact between two scrapes' })
  assert.equal(agreed.metric, agreed.status)

  const text = await metricsOf()
  const declared = seriesNames(text)
  const dashboard = metricNamesIn(dashboardQueries())
  assert.ok(dashboard.size >= 15, `the dashboard queries ${[...dashboard].join(', ')}`)
  assert.deepEqual([...dashboard].filter((n) => !declared.has(n)), [], 'dashboard metrics /metrics does not declare')
  const alerts = metricNamesIn(alertRules().map((r) => r.expr))
  assert.deepEqual([...alerts].filter((n) => !declared.has(n)), [], 'alert metrics /metrics does not declare')
  if (noPromtool === undefined) assert.deepEqual(await metricsProblems(text), [], 'promtool check metrics on a mesh node')

  // n1 stops: n0 keeps what it owes and says it cannot reach it.
  await n1!.stop()
  await writeFile(path.join(n0!.root, 'owed.txt'), 'x')
  const down = await waitFor(async () => {
    const m = parseMetrics(await metricsOf())
    return m.get('syncplane_mesh_peer_reachable{peer="n1"}') === 0 && (m.get('syncplane_mesh_peer_owed_paths{peer="n1"}') ?? 0) >= 1 ? m : undefined
  }, { message: 'n1 unreachable, owed a path', timeoutMs: 30_000 })
  assert.ok(down.get('syncplane_mesh_peer_last_contact_timestamp_seconds{peer="n1"}')! * 1000 >= agreed.metric)
})

test('promtool: the alert rules check and pass their unit tests, the scrape config checks', { skip: noPromtool }, async (t) => {
  const rules = await promtool(['check', 'rules', example('prometheus/alerts.yml')])
  assert.equal(rules.exitCode, 0, rules.output)
  const unit = await promtool(['test', 'rules', 'alerts.test.yml'], { cwd: example('prometheus') })
  assert.equal(unit.exitCode, 0, unit.output)
  // promtool looks for the token file: a copy of the config points at one.
  const tmp = await makeTempDir(t)
  await writeFile(path.join(tmp.path, 'token'), 'a-long-random-api-token-here\n')
  await copyFile(example('prometheus/alerts.yml'), path.join(tmp.path, 'alerts.yml'))
  const config = readFileSync(example('prometheus/prometheus.yml'), 'utf8')
  assert.match(config, /credentials_file: \/etc\/prometheus\/syncplane-token/)
  await writeFile(path.join(tmp.path, 'prometheus.yml'), config.replace('/etc/prometheus/syncplane-token', path.join(tmp.path, 'token')))
  const checked = await promtool(['check', 'config', path.join(tmp.path, 'prometheus.yml')])
  assert.equal(checked.exitCode, 0, checked.output)
})

test('promtool: every dashboard query is valid PromQL', { skip: noPromtool }, async (t) => {
  // As recording rules, promtool parses them; Grafana's interval variable becomes a duration first.
  const tmp = await makeTempDir(t)
  const rules = dashboardQueries().map((expr, i) => ({ record: `dashboard:query_${i}`, expr: expr.replaceAll('$__rate_interval', '5m') }))
  await writeFile(path.join(tmp.path, 'dashboard-rules.yml'), JSON.stringify({ groups: [{ name: 'dashboard', rules }] }))
  const res = await promtool(['check', 'rules', path.join(tmp.path, 'dashboard-rules.yml')])
  assert.equal(res.exitCode, 0, res.output)
})

test('every alert has a summary, a description and a runbook that is a section of docs/operations.md', () => {
  const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8')
  // GitHub's anchors: lower case, punctuation dropped, spaces to hyphens.
  const anchors = new Set([...doc.matchAll(/^#+ (.+)$/gm)].map((m) => m[1]!.toLowerCase().replace(/[^a-z0-9 -]/g, '').replaceAll(' ', '-')))
  const rules = alertRules()
  assert.ok(rules.length >= 9)
  for (const rule of rules) {
    assert.ok(rule.annotations.summary && rule.annotations.description, rule.alert)
    const [file, anchor] = rule.annotations.runbook_url!.split('#')
    assert.equal(file, 'docs/operations.md', rule.alert)
    assert.ok(anchors.has(anchor!), `${rule.alert}: no section #${anchor} in docs/operations.md`)
  }
})
