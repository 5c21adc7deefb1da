import { execFileSync, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { spawnManaged, type ManagedProcess } from '../test/helpers/managed-process.js'
import { startRsyncDaemon, type RsyncDaemon } from '../test/helpers/rsync-daemon.js'
import { getFreePort } from '../test/helpers/free-port.js'
import { createAccount, type Account } from './accounting.js'
import { CLI, SERVICE_ENV, SERVICE_NODE_ARGS, waitUntil } from './common.js'
import type { BenchSettings } from './settings.js'

/**
 * The systems of the mesh workloads, every node on this machine, each node
 * with its own tree: syncplane's mesh (a node = the built service plus its
 * rsync daemon with auth), Syncthing (Debian's 1.19) and Unison (Debian's
 * 2.52, one pair). Set up as /work/shared/research/anchors-mesh-measured.md
 * describes, so the figures can be held against the anchors measured there.
 * Every process a system runs is counted in an Account of its own.
 */
export interface MeshSystem {
  name: string
  /** How it was set up and driven, for the report. */
  setup: string
  /** The node trees; the workloads write on the first (node A). */
  roots: string[]
  account: Account
  /** Starts every node and waits until they are connected. */
  start (): Promise<void>
  /** Whether every node says it has nothing left to do (the trees are compared separately). */
  idle (): Promise<boolean>
  /** Cumulative transfer counters since start; `main` is the one the echo window counts. */
  transfers (): Promise<{ main: number, detail: Record<string, number> }>
  /** What the main counter counts. */
  transferUnit: string
  /** A path inside a tree that is the system's own (never the user's): left out of every comparison. */
  internal (rel: string): boolean
  /** Stops every process it started. */
  stop (): Promise<void>
}

export interface MeshContender {
  name: string
  nodes: number
  /** Why it cannot run here, or null. */
  unavailable (): string | null
  make (dir: string, opts: { settings: BenchSettings, audit: boolean }): MeshSystem
}

const has = (command: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const leadingDotTemp = (rel: string): boolean => /(^|\/)\.(syncthing\.|unison\.|~)/s.test(rel)

export const MESH_CONTENDERS: readonly MeshContender[] = [
  {
    name: 'syncplane mesh',
    nodes: 3,
    unavailable: () => (has('rsync') ? null : 'rsync is not installed'),
    make: (dir, opts) => syncplaneMesh(dir, 3, opts.settings),
  },
  {
    name: 'Syncthing',
    nodes: 3,
    unavailable: () => (has('syncthing') ? null : 'syncthing is not installed (apt-get install syncthing)'),
    make: (dir, opts) => syncthingMesh(dir, 3, opts),
  },
  {
    name: 'Unison',
    nodes: 2,
    unavailable: () => (!has('unison') ? 'unison is not installed (apt-get install unison)' : has('unison-fsmonitor') || has('inotifywait') ? null : 'unison-fsmonitor and inotifywait are both missing (apt-get install inotify-tools)'),
    make: (dir, opts) => unisonPair(dir, opts.settings),
  },
]

/** The mesh systems to compare, in the tables' order; BENCH_MESH_SYSTEMS=syncplane,syncthing,unison keeps those whose name starts with one of the words. */
export function meshContenders (names?: ReadonlySet<string>): MeshContender[] {
  return MESH_CONTENDERS.filter((c) => names === undefined || [...names].some((n) => c.name.toLowerCase().startsWith(n.toLowerCase())))
}

async function stopAll (procs: ReadonlyArray<ManagedProcess | undefined>): Promise<void> {
  await Promise.all(procs.map((p) => p?.stop({ timeoutMs: 15_000 })))
}

/** A process inside the account (it and everything it forks is counted). */
async function spawnCounted (account: Account, argv: readonly string[], opts: { env?: NodeJS.ProcessEnv, log?: string | undefined } = {}): Promise<ManagedProcess> {
  const full = account.wrap(argv)
  const proc = await spawnManaged(full[0]!, full.slice(1), { env: opts.env ?? process.env })
  try {
    account.adopt(proc.pid)
  } catch {}
  return proc
}

/**
 * syncplane's mesh as test/helpers/mesh.ts builds it: N nodes n0…, each a
 * tree, an rsync daemon (with auth) whose module is that tree, and the
 * built service with the default configuration plus the mesh section
 * (every node started from the same section; only SYNCPLANE_MESH_SELF
 * differs). BENCH_SYNCPLANE_CONFIG and BENCH_NODE_ARGS apply to each node.
 */
export function syncplaneMesh (dir: string, n: number, settings: BenchSettings): MeshSystem {
  const names = Array.from({ length: n }, (_, i) => `n${i}`)
  const roots = names.map((name) => path.join(dir, name, 'tree'))
  const account = createAccount('syncplane-mesh')
  const daemons: RsyncDaemon[] = []
  const procs: ManagedProcess[] = []
  const urls: string[] = []
  const secret = randomBytes(16).toString('hex')

  const api = async (i: number, route: string): Promise<any> => {
    const res = await fetch(urls[i]! + route)
    if (!res.ok) throw new Error(`${urls[i]}${route}: ${res.status}`)
    return res.json()
  }

  return {
    name: 'syncplane mesh',
    setup: `${n} nodes; each the built service (default config + mesh section) and its own rsync daemon with auth on loopback; ${account.method} accounting (services, their rsync runs, the daemons and their children)`,
    roots,
    account,
    transferUnit: 'batches',
    internal: (rel) => rel === '.syncplane' || rel.startsWith('.syncplane/'),

    async start () {
      const ports: number[] = []
      for (const [i, name] of names.entries()) {
        await mkdir(roots[i]!, { recursive: true })
        const daemon = await startRsyncDaemon({ root: path.join(dir, name, 'daemon'), modulePath: roots[i]! })
        daemons.push(daemon)
        account.adopt(daemon.pid)
        ports.push(await getFreePort())
        urls.push(`http://127.0.0.1:${ports[i]}`)
      }
      const env: Record<string, string> = { SYNCPLANE_MESH_SECRET: secret }
      const peers = names.map((name, i) => {
        env[`MESH_PW_${i}`] = daemons[i]!.password
        return { name, api: urls[i]!, url: daemons[i]!.url, passwordEnv: `MESH_PW_${i}` }
      })
      for (const [i, name] of names.entries()) {
        const configFile = path.join(dir, name, 'config.yaml')
        await writeFile(configFile, JSON.stringify({
          source: roots[i],
          database: path.join(dir, name, 'db.sqlite'),
          logLevel: 'warn',
          api: { host: '127.0.0.1', port: ports[i] },
          ...settings.service.config,
          mesh: { ...(settings.service.config.mesh as object | undefined), peers },
        }, null, 2))
        procs.push(await spawnCounted(account, [process.execPath, ...SERVICE_NODE_ARGS, ...settings.service.nodeArgs, CLI, 'serve', '--config', configFile], {
          env: { ...process.env, ...SERVICE_ENV, ...env, SYNCPLANE_MESH_SELF: name },
        }))
      }
      for (const [i, proc] of procs.entries()) {
        const ok = await waitUntil(async () => {
          if (!proc.isRunning()) throw new Error(`syncplane ${names[i]} exited:\n${proc.output()}`)
          return (await api(i, '/v1/mesh').catch(() => null)) !== null
        }, 30_000, 50)
        if (!ok) throw new Error(`syncplane ${names[i]} did not start:\n${proc.output()}`)
      }
    },

    async idle () {
      const all = await Promise.all(names.map((_, i) => api(i, '/v1/mesh').catch(() => null)))
      return all.every((s) => s?.idle === true)
    },

    async transfers () {
      const all = await Promise.all(names.map((_, i) => api(i, '/v1/mesh')))
      const sum = (key: 'batchesSent' | 'filesSent'): number => all.reduce((s, m) => s + m.peers.reduce((t: number, p: Record<string, number>) => t + p[key]!, 0), 0)
      const batches = sum('batchesSent')
      return { main: batches, detail: { batches, files: sum('filesSent') } }
    },

    async stop () {
      await stopAll(procs)
      if (settings.service.log !== undefined) {
        for (const [i, p] of procs.entries()) await writeFile(settings.service.log, `--- syncplane ${names[i]}\n${p.output()}\n`, { flag: 'a' })
      }
      await Promise.all(daemons.map((d) => d.stop()))
      await account.close()
    },
  }
}

/**
 * Syncthing, N nodes: `syncthing generate`, then config.xml edited as the
 * anchors describe: folder `mesh` (sendreceive, shared with every device,
 * watcher on with fsWatcherDelayS=1, the lowest it accepts; rescan 3600 s)
 * and every device, copied from the file's own <defaults>; listeners,
 * GUI/REST on 127.0.0.1; global and local discovery, relays, NAT, LAN
 * announcements, usage reporting, crash reports and upgrades off;
 * setLowPriority=false. Nodes start one after another, each answering
 * /rest/system/ping before the next (started together, two nodes dial each
 * other at once and hang in TLS for 20 s). `audit` adds --audit (the
 * churn counts pulls from it).
 */
export function syncthingMesh (dir: string, n: number, opts: { settings: BenchSettings, audit: boolean }): MeshSystem {
  const names = Array.from({ length: n }, (_, i) => `st${i}`)
  const roots = names.map((name) => path.join(dir, name, 'tree'))
  const homes = names.map((name) => path.join(dir, name, 'home'))
  const audits = names.map((name) => path.join(dir, name, 'audit.log'))
  const account = createAccount('syncthing')
  const procs: ManagedProcess[] = []
  const apiKey = randomBytes(16).toString('hex')
  const gui: number[] = []
  const ids: string[] = []
  let readBack = ''

  const rest = async (i: number, route: string): Promise<any> => {
    const res = await fetch(`http://127.0.0.1:${gui[i]}${route}`, { headers: { 'X-API-Key': apiKey } })
    if (!res.ok) throw new Error(`syncthing ${names[i]} ${route}: ${res.status} ${await res.text()}`)
    return res.json()
  }

  return {
    name: 'Syncthing',
    get setup () {
      return `${n} nodes, Debian's syncthing (${version('syncthing', ['--version'])}); fsWatcherDelayS=1 (0 is refused), discovery/relays/NAT/UR off, 127.0.0.1 listeners, started one after another; read back: ${readBack}; ${account.method} accounting (monitor and main process of each node)`
    },
    roots,
    account,
    transferUnit: opts.audit ? 'pulls (ItemFinished)' : 'MB received',
    internal: (rel) => rel === '.stfolder' || rel.startsWith('.stfolder/') || rel === '.stversions' || rel.startsWith('.stversions/') || leadingDotTemp(rel),

    async start () {
      const bep: number[] = []
      for (const [i, name] of names.entries()) {
        await mkdir(path.join(roots[i]!, '.stfolder'), { recursive: true })
        const generated = spawnSync('syncthing', ['generate', `--home=${homes[i]}`, '--no-default-folder', '--skip-port-probing'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
        const out = `${generated.stdout}${generated.stderr}`
        const id = /Device ID: ([A-Z0-9-]+)/.exec(out)?.[1]
        if (id === undefined) throw new Error(`syncthing generate for ${name} printed no device ID:\n${out}`)
        ids.push(id)
        gui.push(await getFreePort())
        bep.push(await getFreePort())
      }
      for (const [i] of names.entries()) {
        const file = path.join(homes[i]!, 'config.xml')
        await writeFile(file, syncthingConfig(await readFile(file, 'utf8'), { self: i, names, ids, roots, bep, gui: gui[i]!, apiKey }))
      }
      for (const [i, name] of names.entries()) {
        const proc = await spawnCounted(account, ['syncthing', 'serve', '--no-browser', '--no-restart', '--no-upgrade', `--home=${homes[i]}`, ...(opts.audit ? ['--audit', `--auditfile=${audits[i]}`] : [])], {
          env: { ...process.env, STNOUPGRADE: '1', STNODEFAULTFOLDER: '1' },
        })
        procs.push(proc)
        const ok = await waitUntil(async () => {
          if (!proc.isRunning()) throw new Error(`syncthing ${name} exited:\n${proc.output()}`)
          return (await rest(i, '/rest/system/ping').catch(() => null))?.ping === 'pong'
        }, 60_000, 100)
        if (!ok) throw new Error(`syncthing ${name} never answered /rest/system/ping:\n${proc.output()}`)
      }
      const connected = await waitUntil(async () => {
        for (const [i] of names.entries()) {
          const { connections } = await rest(i, '/rest/system/connections').catch(() => ({ connections: {} }))
          if (!ids.every((id, j) => j === i || connections[id]?.connected === true)) return false
        }
        return true
      }, 90_000, 250)
      if (!connected) throw new Error('the Syncthing nodes did not connect to each other within 90 s')
      const folder = await rest(0, '/rest/config/folders/mesh')
      const options = await rest(0, '/rest/config/options')
      readBack = `fsWatcherEnabled=${folder.fsWatcherEnabled} fsWatcherDelayS=${folder.fsWatcherDelayS} rescanIntervalS=${folder.rescanIntervalS} ` +
        `globalAnnounce=${options.globalAnnounceEnabled} localAnnounce=${options.localAnnounceEnabled} relays=${options.relaysEnabled} nat=${options.natEnabled} urAccepted=${options.urAccepted} setLowPriority=${options.setLowPriority}`
      if (folder.fsWatcherEnabled !== true || folder.fsWatcherDelayS !== 1) throw new Error(`Syncthing did not take the folder settings: ${readBack}`)
    },

    async idle () {
      for (const [i] of names.entries()) {
        const s = await rest(i, '/rest/db/status?folder=mesh').catch(() => null)
        if (s?.state !== 'idle' || s.needTotalItems !== 0) return false
      }
      return true
    },

    async transfers () {
      let inBytes = 0
      for (const [i] of names.entries()) inBytes += (await rest(i, '/rest/system/connections')).total.inBytesTotal
      const detail: Record<string, number> = { 'MB received': inBytes / 1e6 }
      if (opts.audit) {
        let pulls = 0
        let failed = 0
        for (const file of audits) {
          for (const line of (await readFile(file, 'utf8').catch(() => '')).split('\n')) {
            if (!line.includes('"ItemFinished"')) continue
            try {
              if (JSON.parse(line).data?.error == null) pulls++
              else failed++
            } catch {}
          }
        }
        detail.pulls = pulls
        detail['failed pulls'] = failed
        return { main: pulls, detail }
      }
      return { main: detail['MB received']!, detail }
    },

    async stop () {
      await stopAll(procs)
      if (opts.settings.service.log !== undefined) {
        for (const [i, p] of procs.entries()) await writeFile(opts.settings.service.log, `--- syncthing ${names[i]}\n${p.output()}\n`, { flag: 'a' })
      }
      await account.close()
    },
  }
}

function version (command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.trim()
  } catch {
    return '?'
  }
}

/** config.xml as generated, with the folder, the devices, the options and the GUI the bench needs. */
export function syncthingConfig (xml: string, c: { self: number, names: string[], ids: string[], roots: string[], bep: number[], gui: number, apiKey: string }): string {
  const defaults = /<defaults>([\s\S]*?)<\/defaults>/.exec(xml)?.[1]
  const folderDefault = defaults === undefined ? undefined : /<folder [\s\S]*?<\/folder>/.exec(defaults)?.[0]
  const deviceDefault = defaults === undefined ? undefined : /\n\s*(<device id=""[\s\S]*?<\/device>)/.exec(defaults)?.[1]
  if (folderDefault === undefined || deviceDefault === undefined) throw new Error('syncthing config.xml: no <defaults> folder and device to copy')
  const attr = (element: string, name: string, value: string): string => element.replace(new RegExp(`(<\\w+ [^>]*?\\b${name}=)"[^"]*"`), `$1"${value}"`)
  const devices = c.ids.map((id, i) => {
    const d = attr(deviceDefault, 'id', id).replace('<device id=', `<device name="${c.names[i]}" id=`)
    return d.replace(/<address>[^<]*<\/address>/, `<address>tcp://127.0.0.1:${c.bep[i]}</address>`)
  })
  const folderDevices = c.ids.map((id) => `<device id="${id}" introducedBy=""><encryptionPassword></encryptionPassword></device>`).join('\n')
  let folder = folderDefault
  for (const [k, v] of Object.entries({ id: 'mesh', label: 'mesh', path: c.roots[c.self]!, fsWatcherEnabled: 'true', fsWatcherDelayS: '1', rescanIntervalS: '3600' })) folder = attr(folder, k, v)
  folder = folder.replace(/<device id="[^"]*" introducedBy="">[\s\S]*?<\/device>/, folderDevices)
  let out = xml
    // The generated file's own device entry goes; every device (itself included) and the folder come in its place.
    .replace(/\n\s*<device id="[^"]+"[\s\S]*?<\/device>(?=\s*<gui)/, `\n${folder}\n${devices.join('\n')}`)
    .replace(/(<gui [^>]*>\s*<address>)[^<]*/, `$1127.0.0.1:${c.gui}`)
    .replace(/<apikey>[^<]*<\/apikey>/, `<apikey>${c.apiKey}</apikey>`)
  const options: Record<string, string> = {
    listenAddress: `tcp://127.0.0.1:${c.bep[c.self]}`,
    globalAnnounceEnabled: 'false',
    localAnnounceEnabled: 'false',
    relaysEnabled: 'false',
    natEnabled: 'false',
    announceLANAddresses: 'false',
    urAccepted: '-1',
    crashReportingEnabled: 'false',
    autoUpgradeIntervalH: '0',
    startBrowser: 'false',
    setLowPriority: 'false',
  }
  for (const [k, v] of Object.entries(options)) {
    const re = new RegExp(`<${k}>[^<]*</${k}>`)
    if (!re.test(out)) throw new Error(`syncthing config.xml: no <${k}> option`)
    out = out.replace(re, `<${k}>${v}</${k}>`)
  }
  return out
}

/**
 * Unison, one pair of local roots (no network at all), the anchors'
 * command line. `-repeat watch` where unison-fsmonitor is installed;
 * Debian 12 ships none, so otherwise the anchors' `inotify` driver:
 * `inotifywait -m -r` on both roots, one `unison -batch` run 50 ms after
 * the last event and at most 1 s after the first.
 */
export function unisonPair (dir: string, settings: BenchSettings): MeshSystem {
  const roots = ['a', 'b'].map((x) => path.join(dir, x))
  const archive = path.join(dir, 'archive')
  const runsLog = path.join(dir, 'runs.log')
  const account = createAccount('unison')
  const driver = has('unison-fsmonitor') ? 'repeat watch' : 'inotify'
  const args = ['-batch', '-prefer', 'newer', '-copyonconflict', '-times', '-confirmbigdel=false', '-contactquietly', '-terse', '-log', '-logfile', path.join(dir, 'unison.log')]
  const env = { ...process.env, UNISON: archive }
  let proc: ManagedProcess | undefined

  const runs = (): Array<{ kind: string, rc: number }> => {
    let text = ''
    try {
      text = readFileSync(runsLog, 'utf8')
    } catch {}
    return text.split('\n').filter((l) => l.startsWith('end ')).map((l) => {
      const [, , rc, kind] = l.split(' ')
      return { kind: kind!, rc: Number(rc) }
    })
  }

  return {
    name: 'Unison',
    setup: `2 nodes (one pair of local roots), Debian's unison (${version('unison', ['-version'])}), ${driver === 'inotify' ? 'driven by an inotifywait loop (-repeat watch needs unison-fsmonitor, which Debian 12 lacks): one `unison -batch` run 50 ms after the last event, at most 1 s after the first' : '-repeat watch (unison-fsmonitor)'}; -prefer newer -copyonconflict -times; ${account.method} accounting (driver, inotifywait, every unison run)`,
    roots,
    account,
    transferUnit: 'runs that propagated something',
    internal: leadingDotTemp,

    async start () {
      await mkdir(archive, { recursive: true })
      for (const r of roots) await mkdir(r, { recursive: true })
      // One synchronous run first: the pair in sync, the archive made.
      execFileSync('unison', [roots[0]!, roots[1]!, ...args], { env, stdio: 'ignore' })
      if (driver === 'repeat watch') {
        proc = await spawnCounted(account, ['unison', roots[0]!, roots[1]!, ...args, '-repeat', 'watch'], { env })
        return
      }
      const script = path.join(dir, 'driver.sh')
      await writeFile(script, UNISON_DRIVER)
      await chmod(script, 0o755)
      proc = await spawnCounted(account, ['bash', script, roots[0]!, roots[1]!, runsLog, ...args], { env })
      // The watches are set when inotifywait says so.
      const ok = await waitUntil(() => proc!.output().includes('Watches established'), 30_000, 50)
      if (!ok) throw new Error(`the unison driver did not start:\n${proc.output()}`)
    },

    async idle () {
      if (driver === 'repeat watch') return true
      const text = await readFile(runsLog, 'utf8').catch(() => '')
      const last = text.trimEnd().split('\n').at(-1) ?? ''
      // Not in a run, and none started for 300 ms (the driver waits 50 ms for quiet).
      return !last.startsWith('start ') && (last === '' || Date.now() / 1000 - Number(last.split(' ')[1]) > 0.3)
    },

    async transfers () {
      const all = runs()
      const synced = all.filter((r) => r.kind === 'sync').length
      return { main: synced, detail: { runs: all.length, 'runs that propagated something': synced, 'failed runs': all.filter((r) => r.rc >= 2).length } }
    },

    async stop () {
      await proc?.stop({ timeoutMs: 15_000 })
      if (settings.service.log !== undefined) await writeFile(settings.service.log, `--- unison\n${proc?.output() ?? ''}\n`, { flag: 'a' })
      // A unison run the driver started may still be finishing.
      await waitUntil(() => account.pids().length === 0, 5_000, 50)
      await account.close()
    },
  }
}

/**
 * The anchors' `inotify` driver: args A B RUNS_LOG unison-options…; one run
 * per quiet spell, logged as "start T" and "end T RC sync|noop" (a terse
 * run that prints nothing propagated nothing).
 */
const UNISON_DRIVER = `#!/bin/bash
A=$1; B=$2; RUNS=$3; shift 3
usec () { local t=\${EPOCHREALTIME/./}; echo $((10#$t)); }
# Without -q it says "Watches established." on stderr once it watches everything.
inotifywait -m -r -e modify,attrib,close_write,move,create,delete --exclude '/\\.unison\\.' --format x "$A" "$B" | {
  while read -r _; do
    first=$(usec)
    while read -r -t 0.05 _; do
      (( $(usec) - first >= 1000000 )) && break
    done
    echo "start $EPOCHREALTIME" >> "$RUNS"
    out=$(unison "$A" "$B" "$@" 2>&1); rc=$?
    kind=noop; [ -n "$out" ] && kind=sync
    echo "end $EPOCHREALTIME $rc $kind" >> "$RUNS"
  done
}
`
