import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { spawnManaged, type ExitInfo, type ManagedProcess } from './managed-process.js'
import type { TempDir } from './temp-dir.js'
import { getFreePort } from './free-port.js'
import { waitFor } from './wait-for.js'
import { SERVICE_ENV, SERVICE_NODE_ARGS } from '../../bench/common.js'

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url))

export interface ServiceProcess {
  proc: ManagedProcess
  url: string
  /** The directory it replicates. */
  source: string
  /** Its database file. */
  database: string
  /** GET or POST the API over real HTTP and parse the JSON answer. */
  api (route: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: any }>
  waitReady (): Promise<void>
  signal (signal: NodeJS.Signals): void
  exited: Promise<ExitInfo>
}

/**
 * The built service (`node dist/cli.js serve`) as a child process, for the
 * faults an in-process test cannot inject: kill -9, signals, namespaces.
 * As startSyncplane's, its source is `source` and its database
 * `syncplane.db` in the test's directory, unless `config` names others;
 * its config file is written there too. It is stopped (SIGTERM, then
 * SIGKILL) when the test ends, if it still runs.
 * `wrap` prefixes the command, e.g. ['unshare', '-U', '-r', …].
 */
export async function spawnService (tmp: TempDir, opts: {
  config: Record<string, unknown>
  env?: Record<string, string>
  wrap?: string[]
  name?: string
}): Promise<ServiceProcess> {
  const port = await getFreePort()
  const config = { source: path.join(tmp.path, 'source'), database: path.join(tmp.path, 'syncplane.db'), ...opts.config, api: { host: '127.0.0.1', port } }
  await mkdir(config.source as string, { recursive: true })
  const file = path.join(tmp.path, `${opts.name ?? 'service'}.yaml`)
  // JSON is YAML.
  await writeFile(file, JSON.stringify(config, null, 2))
  // Node's flags and environment as every launcher starts it (npm start, the image, the systemd unit).
  const argv = [...(opts.wrap ?? []), process.execPath, ...SERVICE_NODE_ARGS, CLI, 'serve', '--config', file]
  const proc = await spawnManaged(argv[0]!, argv.slice(1), { env: { ...process.env, ...SERVICE_ENV, ...opts.env } })
  tmp.after(() => proc.stop())
  const url = `http://127.0.0.1:${port}`
  const api = async (route: string, init: { method?: string; body?: unknown } = {}) => {
    const res = await fetch(url + route, {
      method: init.method ?? 'GET',
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body), headers: { 'content-type': 'application/json' } }),
    })
    return { status: res.status, body: await res.json() as unknown }
  }
  return {
    proc,
    url,
    source: config.source as string,
    database: config.database as string,
    api,
    async waitReady () {
      await waitFor(async () => {
        if (!proc.isRunning()) throw new Error(`the service exited:\n${proc.output()}`)
        return (await api('/readyz')).status === 200
      }, { message: 'the service becomes ready', timeoutMs: 30_000 })
    },
    signal (signal) {
      proc.child.kill(signal)
    },
    get exited () {
      return keepAlive(proc.exited)
    },
  }
}

/**
 * spawnManaged unrefs the child so a forgotten one cannot hold the test
 * process open; awaiting its exit must then hold the event loop itself.
 */
function keepAlive<T> (promise: Promise<T>): Promise<T> {
  const timer = setInterval(() => undefined, 1_000)
  return promise.finally(() => clearInterval(timer))
}
