import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { ManagedProcess } from '../test/helpers/managed-process.js'
import { createAccount } from './accounting.js'
import { waitUntil } from './common.js'
import type { BenchSettings } from './settings.js'
import { has, leadingDotTemp, spawnCounted, version, type MeshSystem } from './mesh-system.js'

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
