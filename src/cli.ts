#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { ClientError, EXIT, createApiClient } from './client/api-client.js'
import { commands } from './client/commands.js'
import { packageVersion } from './version.js'

const USAGE = `Usage: syncplane <command> [options]

Service:
  serve [--config FILE]        run the service (without --config: a demo that
                               replicates ./data/source to ./data/replica)
  check [--config FILE] [--json] [--pre-start] [--timeout S]
                               pre-flight: the configuration as serve reads it,
                               then rsync, the source (readable, root marker,
                               inotify limit), the database, and every target
                               and mesh peer (daemon listed, SSH login, local
                               directory writable; S seconds each, default 5);
                               one line per check: OK, WARN or FAIL.
                               Exit 0 nothing failed (warnings allowed), 1 a
                               check failed, 2 invalid configuration.
                               --pre-start (systemd ExecStartPre): what the
                               running service rides out (a target or peer
                               down, root marker missing, inotify limit) only
                               warns; rsync, source and database still fail

Client (talks to a running service):
  status                       watcher and per-target state
  version                      this client's version and the server's (exit 3
                               if the server cannot be reached)
  pause | resume [TARGET]      stop / restart syncing watched changes (of one
                               target only, with TARGET; kept across restarts)
  pending TARGET [--limit N]   the paths TARGET still lacks
  cancel JOB                   stop a running job (its paths stay pending)
  resync [--target T]… [--wait [--timeout S]] [--force]
                               full mirror; with --wait, exit 1 if it failed
                               or a target holds deletions
  resync --dry-run [--target T]… [--limit N]
                               what a forced mirror would send and delete
  confirm-deletes TARGET [--expected N]
                               release the deletions TARGET holds (a forced
                               mirror makes them); --expected: the count you
                               reviewed, refused if it changed
  flush [PATH…] [--target T]… [--timeout S]
                               wait until every change is on every target
  jobs [--status S] [--kind K] [--target T] [--limit N]
                               job history, newest first
  mesh                         this node's mesh peers: reachable, owed, lag
  conflicts [--limit N]        conflicts resolved, where each loser is kept
  confirm-mesh-deletes N       let N held local deletions go to the peers

Client options:
  --url URL                    API base (default $SYNCPLANE_URL or http://127.0.0.1:8787)
  --json                       print the API's JSON instead of a table
  The token comes from $SYNCPLANE_API_TOKEN.

Exit codes: 0 success, 1 the operation failed, 2 usage error, 3 service unreachable.

  -h, --help                   show this help
  -v, --version                print this client's version
`

/** How long `check` gives each target or peer to answer, unless --timeout says otherwise: short, since a start waits for it. */
const CHECK_TIMEOUT_SEC = 5

async function main (argv: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        url: { type: 'string' },
        json: { type: 'boolean' },
        target: { type: 'string', multiple: true },
        wait: { type: 'boolean' },
        force: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        expected: { type: 'string' },
        timeout: { type: 'string' },
        status: { type: 'string' },
        kind: { type: 'string' },
        limit: { type: 'string' },
        'pre-start': { type: 'boolean' },
      },
    })
  } catch (err) {
    process.stderr.write(`syncplane: ${(err as Error).message}\n\n${USAGE}`)
    return EXIT.usage
  }
  const { values, positionals } = parsed
  if (values.version) {
    process.stdout.write(`${packageVersion()}\n`)
    return EXIT.ok
  }
  const [command, ...rest] = positionals
  if (values.help || command === undefined) {
    process.stdout.write(USAGE)
    return command === undefined && !values.help ? EXIT.usage : EXIT.ok
  }
  if (command === 'serve' && rest.length === 0) {
    // Loaded here only: the client commands must start without Fastify,
    // SQLite (a native addon), execa and the watcher behind the server.
    const { serve } = await import('./server.js')
    await serve({ configPath: values.config })
    return -1
  }
  const number = (name: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined
    const n = Number(value)
    if (!Number.isFinite(n) || n <= 0) throw new ClientError('SP_CLI_USAGE', `--${name} must be a positive number, got "${value}"`)
    return n
  }
  if (command === 'check' && rest.length === 0) {
    let timeoutSec
    try {
      timeoutSec = number('timeout', values.timeout) ?? CHECK_TIMEOUT_SEC
    } catch (err) {
      process.stderr.write(`syncplane check: ${(err as Error).message}\n`)
      return EXIT.usage
    }
    // Like serve's: SQLite and execa load for this command only.
    const { checkCommand } = await import('./check/command.js')
    const result = await checkCommand({
      configPath: values.config,
      env: process.env,
      cwd: process.cwd(),
      json: values.json ?? false,
      preStart: values['pre-start'] ?? false,
      timeoutSec,
    })
    process.stdout.write(result.stdout)
    process.stderr.write(result.stderr)
    return result.exitCode
  }
  const run = commands[command]
  const positionalsAllowed: Record<string, number> = { flush: Infinity, 'confirm-deletes': 1, 'confirm-mesh-deletes': 1, pause: 1, resume: 1, pending: 1, cancel: 1 }
  if (run === undefined || rest.length > (positionalsAllowed[command] ?? 0)) {
    process.stderr.write(`syncplane: unknown command "${positionals.join(' ')}"\n\n${USAGE}`)
    return EXIT.usage
  }
  const count = (name: string, value: string): number => {
    const n = Number(value)
    if (!Number.isInteger(n) || n < 0) throw new ClientError('SP_CLI_USAGE', `--${name} must be a whole number, got "${value}"`)
    return n
  }
  try {
    const api = createApiClient({ url: values.url ?? process.env.SYNCPLANE_URL ?? 'http://127.0.0.1:8787', token: process.env.SYNCPLANE_API_TOKEN })
    const result = await run(api, rest, {
      json: values.json ?? false,
      targets: values.target ?? [],
      wait: values.wait ?? false,
      force: values.force ?? false,
      dryRun: values['dry-run'] ?? false,
      expected: values.expected === undefined ? undefined : count('expected', values.expected),
      timeout: number('timeout', values.timeout),
      status: values.status,
      kind: values.kind,
      limit: number('limit', values.limit),
    })
    process.stdout.write(result.output)
    if (result.stderr !== undefined) process.stderr.write(result.stderr)
    return result.exitCode
  } catch (err) {
    if (!(err instanceof ClientError)) throw err
    process.stderr.write(`syncplane ${command}: ${err.message}\n`)
    return err.exitCode
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code
}, (err: unknown) => {
  process.stderr.write(`syncplane: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
