import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { ManagedProcess } from '../test/helpers/managed-process.js'
import { getFreePort } from '../test/helpers/free-port.js'
import { createAccount } from './accounting.js'
import { waitUntil } from './common.js'
import type { BenchSettings } from './settings.js'
import { leadingDotTemp, spawnCounted, stopAll, version, type MeshSystem } from './mesh-system.js'

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
