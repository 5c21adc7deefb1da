import { ClientError, EXIT, type ApiClient } from './api-client.js'
import { duration, table, truncate } from './format.js'
import { packageVersion } from '../version.js'

export interface CommandOptions {
  json: boolean
  targets: string[]
  wait: boolean
  force: boolean
  dryRun: boolean
  expected: number | undefined
  timeout: number | undefined
  status: string | undefined
  kind: string | undefined
  limit: number | undefined
}

/** What a command prints: `output` on stdout, `stderr` (when set) on stderr, then it exits with `exitCode`. */
export interface CommandResult { exitCode: number; output: string; stderr?: string }

interface JobDto {
  id: number
  target: string
  kind: string
  trigger: string
  status: string
  pathsCount: number
  filesTransferred: number | null
  bytesTransferred: number | null
  durationMs: number | null
  createdAt: string
  error: string | null
}

const jobsTable = (jobs: JobDto[]): string => table(
  ['ID', 'TARGET', 'KIND', 'TRIGGER', 'STATUS', 'PATHS', 'FILES', 'BYTES', 'TOOK', 'CREATED', 'ERROR'],
  jobs.map((j) => [j.id, j.target, j.kind, j.trigger, j.status, j.pathsCount, j.filesTransferred, j.bytesTransferred, duration(j.durationMs), j.createdAt, truncate(j.error, 60)])
)

interface PreviewDto {
  target: string
  send: { count: number, paths: string[] }
  delete: { count: number, paths: string[] }
  error: string | null
}

const previewText = (p: PreviewDto): string => {
  if (p.error !== null) return `${p.target}: could not preview: ${p.error}\n`
  const list = (verb: string, l: PreviewDto['send']): string =>
    `${p.target}: would ${verb} ${l.count}\n${l.paths.map((name) => `  ${JSON.stringify(name)}\n`).join('')}${l.count > l.paths.length ? `  … and ${l.count - l.paths.length} more\n` : ''}`
  return list('send', p.send) + list('delete', p.delete)
}

const out = (opts: CommandOptions, body: unknown, human: () => string, exitCode: number = EXIT.ok): CommandResult =>
  ({ exitCode, output: opts.json ? `${JSON.stringify(body, null, 2)}\n` : human() })

/** The client commands: one API call each, a readable answer, an exit code CI can trust. */
export const commands: Record<string, (api: ApiClient, args: string[], opts: CommandOptions) => Promise<CommandResult>> = {
  async status (api, _args, opts) {
    const { body } = await api.call('GET', '/v1/status')
    // Said only while it fails, so the usual answer stays as it was.
    const database = body.database?.state === 'failing' ? `database: failing since ${body.database.since} (${body.database.error})\n` : ''
    return out(opts, body, () => `watcher: ${body.watcher.state}${body.watcher.lastError ? ` (${body.watcher.lastError})` : ''}\n` + database + table(
      ['TARGET', 'STATE', 'PENDING', 'LAG', 'FAILURES', 'LAST SUCCESS', 'LAST ERROR'],
      body.targets.map((t: any) => [t.name, t.state + (t.fullSyncPending ? '+mirror' : ''), t.pending + t.inFlight, duration(t.lagMs), t.consecutiveFailures, t.lastSuccessAt, truncate(t.lastError?.message, 60)])
    ))
  },

  /**
   * This client's version and the server's. The client's is printed even
   * when the server's cannot be read, but the exit code says it could not
   * (3 unreachable, 1 refused): a deploy check comparing the two must not
   * pass on half an answer. `--version` prints the client's alone, always 0.
   */
  async version (api, _args, opts) {
    const client = packageVersion()
    try {
      const { body } = await api.call('GET', '/v1/status')
      // A service older than /v1/status's `version` answers without it.
      const server: string | null = typeof body?.version === 'string' ? body.version : null
      return out(opts, { client, server }, () => `client ${client}\nserver ${server ?? 'unknown (it does not say; older than this client)'}\n`)
    } catch (err) {
      if (!(err instanceof ClientError)) throw err
      return { ...out(opts, { client, server: null, error: err.message }, () => `client ${client}\n`, err.exitCode), stderr: `syncplane version: server version unknown: ${err.message}\n` }
    }
  },

  async pause (api, [target], opts) {
    if (target !== undefined) {
      const { body } = await api.call('POST', `/v1/targets/${encodeURIComponent(target)}/pause`)
      return out(opts, body, () => (body.changed ? `${target} paused\n` : `${target} was already paused\n`))
    }
    const { body } = await api.call('POST', '/v1/watch/pause')
    return out(opts, body, () => (body.changed ? 'watching paused\n' : 'watching was already paused\n'))
  },

  async resume (api, [target], opts) {
    if (target !== undefined) {
      const { body } = await api.call('POST', `/v1/targets/${encodeURIComponent(target)}/resume`)
      return out(opts, body, () => (body.changed ? `${target} resumed\n` : `${target} was not paused\n`))
    }
    const { body } = await api.call('POST', '/v1/watch/resume')
    return out(opts, body, () => (body.changed ? 'watching resumed\n' : 'watching was not paused\n'))
  },

  async pending (api, [target], opts) {
    if (target === undefined) throw new ClientError('SP_CLI_USAGE', 'name the target whose pending paths to list')
    const { body } = await api.call('GET', `/v1/targets/${encodeURIComponent(target)}/pending?limit=${opts.limit ?? 100}`)
    const more = body.total > body.items.length ? `… ${body.total - body.items.length} more (--limit N, or the API's cursor)\n` : ''
    const mirror = body.fullSyncPending ? 'and a full mirror is owed\n' : ''
    return out(opts, body, () => table(['SINCE', 'PATH'], body.items.map((i: any) => [i.since, JSON.stringify(i.path)])) + more + mirror)
  },

  async cancel (api, [id], opts) {
    if (id === undefined || !/^[1-9][0-9]*$/.test(id)) throw new ClientError('SP_CLI_USAGE', 'give the id of the job to cancel (see syncplane jobs)')
    const { body } = await api.call('POST', `/v1/jobs/${id}/cancel`)
    return out(opts, body, () => `job ${id} (${body.target}, ${body.kind}) cancelled; its paths stay pending\n`)
  },

  async resync (api, _args, opts) {
    if (opts.dryRun) {
      const { body } = await api.call('POST', `/v1/resync?limit=${opts.limit ?? 20}`, { targets: opts.targets, dryRun: true })
      return out(opts, body, () => body.preview.map((p: PreviewDto) => previewText(p)).join('\n'), body.preview.some((p: PreviewDto) => p.error !== null) ? EXIT.failed : EXIT.ok)
    }
    const query = opts.wait ? `?wait=true${opts.timeout === undefined ? '' : `&timeout=${Math.ceil(opts.timeout)}`}` : ''
    const { status, body } = await api.call('POST', `/v1/resync${query}`, { targets: opts.targets, ...(opts.force ? { force: true } : {}) })
    const failed = status === 502 || status === 504 || status === 409
    const result = out(opts, body, () => jobsTable(body.jobs), failed ? EXIT.failed : EXIT.ok)
    if (failed && !opts.json) {
      result.output += status === 504
        ? 'resync: still running when the timeout passed\n'
        : status === 409
          ? (body.deletesHeld as Array<{ target: string, count: number }>).map((h) => `resync: ${h.target} holds ${h.count} deletions; preview with resync --dry-run, then confirm-deletes ${h.target}\n`).join('')
          : 'resync: a job failed\n'
    }
    return result
  },

  async 'confirm-deletes' (api, args, opts) {
    const [target] = args
    if (target === undefined) throw new ClientError('SP_CLI_USAGE', 'name the target whose deletions to confirm')
    const { body } = await api.call('POST', `/v1/targets/${encodeURIComponent(target)}/deletes/confirm`, opts.expected === undefined ? {} : { expected: opts.expected })
    return out(opts, body, () => `confirmed ${body.count} deletions on ${target}: job ${body.job.id} mirrors it\n`)
  },

  async flush (api, args, opts) {
    const { status, body } = await api.call('POST', '/v1/flush', {
      ...(opts.targets.length > 0 ? { targets: opts.targets } : {}),
      ...(args.length > 0 ? { paths: args } : {}),
      ...(opts.timeout === undefined ? {} : { timeout: opts.timeout }),
    })
    if (status === 504) return out(opts, body, () => 'flush: the changes had not reached every target when the timeout passed\n', EXIT.failed)
    return out(opts, body, () => `flushed: every change is on every target (${body.jobs.length} run(s) carried them)\n`)
  },

  async mesh (api, _args, opts) {
    const { body } = await api.call('GET', '/v1/mesh')
    const held = body.deletesHeld === null ? '' : `local deletions held: ${body.deletesHeld.count} since ${body.deletesHeld.since} (confirm-mesh-deletes ${body.deletesHeld.count})\n`
    return out(opts, body, () => `node ${body.self}: ${body.idle ? 'idle' : 'busy'}, ${body.files} paths, ${body.conflicts} conflicts\n` + held + table(
      ['PEER', 'STATE', 'REACHABLE', 'OWED', 'LAG', 'FAILURES', 'LAST CONTACT', 'LAST ERROR'],
      body.peers.map((p: any) => [p.name, p.state, p.reachable === null ? '?' : p.reachable ? 'yes' : 'no', p.owed, duration(p.lagMs), p.consecutiveFailures, p.lastContact, truncate(p.lastError, 60)])
    ))
  },

  async conflicts (api, _args, opts) {
    const { body } = await api.call('GET', `/v1/mesh/conflicts?limit=${opts.limit ?? 20}`)
    return out(opts, body, () => table(['ID', 'PATH', 'COPY', 'WINNER', 'LOSER', 'RESOLVED'], body.items.map((c: any) => [c.id, JSON.stringify(c.path), JSON.stringify(c.copy), c.winner, c.loser, c.resolvedAt])))
  },

  async 'confirm-mesh-deletes' (api, args, opts) {
    const expected = opts.expected ?? (args[0] === undefined ? undefined : Number(args[0]))
    if (expected === undefined || !Number.isInteger(expected)) throw new ClientError('SP_CLI_USAGE', 'give the held count you reviewed: confirm-mesh-deletes N (see syncplane mesh)')
    const { body } = await api.call('POST', '/v1/mesh/deletes/confirm', { expected })
    return out(opts, body, () => `confirmed ${expected} local deletions: they go to the peers now\n`)
  },

  async jobs (api, _args, opts) {
    const q = new URLSearchParams()
    if (opts.status) q.set('status', opts.status)
    if (opts.kind) q.set('kind', opts.kind)
    if (opts.targets[0]) q.set('target', opts.targets[0])
    q.set('limit', String(opts.limit ?? 20))
    const { body } = await api.call('GET', `/v1/jobs?${q}`)
    return out(opts, body, () => jobsTable(body.jobs))
  },
}

export function unknownCommand (name: string): never {
  throw new ClientError('SP_CLI_USAGE', `unknown command "${name}"`)
}
