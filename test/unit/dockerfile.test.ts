import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { SERVICE_ENV, SERVICE_NODE_ARGS } from '../../bench/common.js'

/*
 * No Docker engine runs here, so the Dockerfile is reviewed by reading it:
 * what a reviewer would check, kept checked.
 */

interface Instruction { op: string, args: string }

/** Instructions in order, continuation lines joined, comments dropped. */
function parseDockerfile (text: string): Instruction[] {
  const logical: string[] = []
  let pending = ''
  for (const line of text.split('\n')) {
    // A comment line, also inside a continued instruction, as Docker reads it.
    if (/^\s*#/.test(line)) continue
    const joined = pending + line.trim()
    if (joined.endsWith('\\')) {
      pending = `${joined.slice(0, -1).trim()} `
      continue
    }
    pending = ''
    if (joined !== '') logical.push(joined)
  }
  return logical.map((l) => {
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(l)!
    return { op: op!.toUpperCase(), args: args! }
  })
}

const text = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8')
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string, license: string, engines: { node: string }, files: string[] }
const all = parseDockerfile(text)
const stageStarts = all.flatMap((ins, i) => (ins.op === 'FROM' ? [i] : []))
/** The image that ships: the last stage. */
const final = all.slice(stageStarts.at(-1))
const args = (op: string, from = final): string[] => from.filter((i) => i.op === op).map((i) => i.args)
const execForm = (s: string): string[] => {
  const parsed = JSON.parse(s) as unknown
  assert.ok(Array.isArray(parsed) && parsed.every((a) => typeof a === 'string'), `not the exec form: ${s}`)
  return parsed
}
/** key=value or key="value" pairs of LABEL, ENV and ARG. */
const pairs = (op: string): Map<string, string> =>
  new Map(args(op).flatMap((a) => [...a.matchAll(/([\w.-]+)=("[^"]*"|\S+)/g)].map((m): [string, string] => [m[1]!, m[2]!.replace(/^"|"$/g, '')])))

test('both stages start from one pinned Node LTS on Debian bookworm-slim, at least the version package.json requires', () => {
  const bases = args('FROM', all).map((a) => a.split(/\s+/)[0]!)
  assert.equal(bases.length, 2, 'a build stage and the runtime')
  const minimum = Number(/\d+/.exec(pkg.engines.node)![0])
  for (const base of bases) {
    const m = /^node:(\d+)-bookworm-slim$/.exec(base)
    assert.ok(m, `base image ${base}: a pinned major on bookworm-slim, never latest`)
    assert.ok(Number(m[1]) >= minimum && Number(m[1]) % 2 === 0, `node ${m[1]}: an even (LTS) major, at least ${minimum}`)
  }
  assert.equal(new Set(bases).size, 1, 'build and runtime on the same base')
})

test('the runtime runs as a named non-root user', () => {
  const users = args('USER')
  assert.ok(users.length > 0, 'no USER in the runtime stage')
  const user = users.at(-1)!
  assert.ok(!/^(root|0)(:|$)/.test(user), `runs as ${user}`)
  const created = args('RUN').find((r) => r.includes('useradd') && r.includes(` ${user}`))
  assert.ok(created, `the user ${user} is created in the image (ssh needs a passwd entry)`)
  const uid = /--uid (\d+)/.exec(created)
  assert.ok(uid && Number(uid[1]) >= 1000, 'an unprivileged uid')
})

test('tini is PID 1, installed from Debian, and execs syncplane with the config', () => {
  const [entry, ...extra] = args('ENTRYPOINT')
  assert.equal(extra.length, 0)
  const argv = execForm(entry!)
  assert.match(argv[0]!, /(^|\/)tini$/, 'tini as PID 1 reaps orphaned ssh masters and forwards signals')
  assert.equal(argv[1], '--')
  assert.equal(argv[2], 'node')
  assert.ok(argv.includes('/app/dist/cli.js'), argv.join(' '))
  assert.ok(args('RUN').some((r) => /apt-get install[^&]*\btini\b/.test(r)), 'tini comes from apt-get install')
  assert.deepEqual(execForm(args('CMD').at(-1)!), ['serve', '--config', '/etc/syncplane/syncplane.yaml'])
  assert.deepEqual(args('STOPSIGNAL'), ['SIGTERM'], 'syncplane drains on SIGTERM')
})

test('the image starts node as the benchmark measured it: the same flags and malloc settings', () => {
  const argv = execForm(args('ENTRYPOINT')[0]!)
  for (const flag of SERVICE_NODE_ARGS) assert.ok(argv.slice(0, argv.indexOf('/app/dist/cli.js')).includes(flag), `node ${flag}`)
  const env = pairs('ENV')
  for (const [key, value] of Object.entries(SERVICE_ENV)) assert.equal(env.get(key), value, key)
})

test('the health check asks /healthz on the API port, with bounds', () => {
  const [check] = args('HEALTHCHECK')
  assert.ok(check !== undefined && !/^NONE\b/.test(check), 'a HEALTHCHECK')
  for (const option of ['--interval=', '--timeout=', '--start-period=', '--retries=']) assert.ok(check.includes(option), `HEALTHCHECK ${option}`)
  const cmd = /CMD\s+(.*)$/.exec(check)![1]!
  const probe = execForm(cmd).join(' ')
  assert.match(probe, /127\.0\.0\.1:'\+\(process\.env\.SYNCPLANE_API_PORT\|\|8787\)\+'\/healthz/)
  assert.deepEqual(args('EXPOSE'), ['8787'])
})

test('OCI labels name the image, its licence and the version package.json has', () => {
  const labels = pairs('LABEL')
  const defaults = pairs('ARG')
  const resolve = (v: string): string => v.replace(/\$\{(\w+)\}/g, (_, name: string) => defaults.get(name) ?? '')
  for (const key of ['title', 'description', 'licenses', 'version', 'revision']) {
    assert.ok(labels.has(`org.opencontainers.image.${key}`), `org.opencontainers.image.${key}`)
  }
  assert.equal(labels.get('org.opencontainers.image.title'), 'syncplane')
  assert.equal(labels.get('org.opencontainers.image.licenses'), pkg.license)
  assert.equal(resolve(labels.get('org.opencontainers.image.version')!), pkg.version, 'ARG VERSION follows package.json')
})

test('the image listens beyond its own loopback and ships what package.json ships', () => {
  const env = pairs('ENV')
  assert.equal(env.get('SYNCPLANE_API_HOST'), '0.0.0.0')
  assert.equal(env.get('NODE_ENV'), 'production')
  const copied = args('COPY').map((c) => c.split(/\s+/).filter((w) => !w.startsWith('--'))[0]!.replace(/^\/app\//, ''))
  for (const entry of [...pkg.files, 'package.json']) assert.ok(copied.includes(entry), `${entry} is copied into the image`)
  assert.doesNotMatch(text, /has no\s+(?:#\s+)?authentication/, 'the API has a token')
})
