import type { RsyncOutcome } from './runner.js'

/** What rsync's exit codes mean (man rsync, "EXIT VALUES"). */
const EXIT_MEANINGS: Record<number, string> = {
  1: 'syntax or usage error',
  2: 'protocol incompatibility',
  3: 'errors selecting input/output files, dirs',
  4: 'requested action not supported',
  5: 'error starting client-server protocol',
  6: 'daemon unable to append to log-file',
  10: 'error in socket I/O',
  11: 'error in file I/O',
  12: 'error in rsync protocol data stream',
  13: 'errors with program diagnostics',
  14: 'error in IPC code',
  20: 'received SIGUSR1 or SIGINT',
  21: 'some error returned by waitpid()',
  22: 'error allocating core memory buffers',
  23: 'partial transfer due to error',
  24: 'partial transfer due to vanished source files',
  25: 'the --max-delete limit stopped deletions',
  30: 'timeout in data send/receive',
  35: 'timeout waiting for daemon connection',
  255: 'remote shell failed',
}

export function describeExitCode (code: number): string {
  return EXIT_MEANINGS[code] ?? 'unknown error'
}

/** Why a run that did not exit 0 failed, in a line: how it ended, then the end of what rsync printed, if anything. */
export function describeFailedRun (o: Pick<RsyncOutcome, 'exitCode' | 'spawnError' | 'stderrTail'>): string {
  const why = o.exitCode === null ? (o.spawnError ?? 'rsync was stopped') : `rsync exited with code ${o.exitCode} (${describeExitCode(o.exitCode)})`
  return o.stderrTail === '' ? why : `${why}: ${o.stderrTail.slice(-1_000)}`
}

export interface RsyncStats {
  filesTransferred: number | null
  bytesTransferred: number | null
}

/** Reads `--stats --no-human-readable` output (stdout). */
export function parseStats (stdout: string): RsyncStats {
  const num = (label: string): number | null => {
    const m = new RegExp(`^${label}: (\\d+)`, 'm').exec(stdout)
    return m ? Number(m[1]) : null
  }
  return {
    filesTransferred: num('Number of regular files transferred'),
    bytesTransferred: num('Total transferred file size'),
  }
}

/** What a run's `--stats` say of the tree: entries listed, created and deleted (files and directories). */
export interface TreeCounts {
  files: number | null
  created: number
  deleted: number
}

/** A run of two passes (see the delete guard) prints two blocks: the first lists the tree, both may create or delete. */
export function parseTreeCounts (stdout: string): TreeCounts {
  const sum = (label: string): number => {
    let n = 0
    for (const m of stdout.matchAll(new RegExp(`^Number of ${label}: (\\d+)`, 'gm'))) n += Number(m[1])
    return n
  }
  const files = /^Number of files: (\d+)/m.exec(stdout)
  return { files: files ? Number(files[1]) : null, created: sum('created files'), deleted: sum('deleted files') }
}

const SKIPPED_DELETES = /^Deletions stopped due to --max-delete limit \((\d+) skipped\)/

/**
 * `--max-delete` reports what it kept from happening on stderr, wherever the
 * receiver runs (a daemon's run still exits 0; a local one exits 25).
 */
export function parseSkippedDeletes (line: string): number | null {
  const m = SKIPPED_DELETES.exec(line)
  return m ? Number(m[1]) : null
}

/**
 * rsync prints control and non-ASCII bytes in names as `\#ooo` (octal);
 * undo that to get the real name back.
 */
export function unescapeRsyncName (escaped: string): string {
  if (!escaped.includes('\\#')) return escaped
  const bytes: number[] = []
  for (let i = 0; i < escaped.length;) {
    const m = /^\\#([0-7]{3})/.exec(escaped.slice(i, i + 5))
    if (m) {
      bytes.push(parseInt(m[1]!, 8))
      i += 5
    } else {
      const cp = escaped.codePointAt(i)!
      bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'))
      i += cp > 0xffff ? 2 : 1
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

const VANISHED = /^file has vanished: "(.*)"$/

export const REFUSED_LINE_PREFIX = 'ERROR: daemon refused to receive '
const REFUSED = /^ERROR: daemon refused to receive (?:file|directory) "(.*)"$/

/** The names a daemon refused to receive (its `exclude` matched), relative to the transfer. */
export function parseRefused (stderrLines: readonly string[]): string[] {
  const out: string[] = []
  for (const line of stderrLines) {
    const m = REFUSED.exec(line)
    if (m) out.push(unescapeRsyncName(m[1]!).replace(/^(?:\.\/)+/, '').replace(/\/$/, ''))
  }
  return out
}

/** The source paths rsync reported as vanished (exit 24), relative to `source`. */
export function parseVanished (stderrLines: readonly string[], source: string): string[] {
  const prefix = source.endsWith('/') ? source : `${source}/`
  const out: string[] = []
  for (const line of stderrLines) {
    const m = VANISHED.exec(line)
    if (!m) continue
    let name = unescapeRsyncName(m[1]!)
    if (name.startsWith(prefix)) name = name.slice(prefix.length)
    // rsync names a file under a directory it chdir'ed into as "dir/./file".
    name = name.replace(/^(?:\.\/)+/, '').replace(/\/\.\//g, '/')
    if (name !== '' && !name.startsWith('/')) out.push(name)
  }
  return out
}
