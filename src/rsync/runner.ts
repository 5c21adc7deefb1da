import { execa } from 'execa'
import { lowerChildPriority, readAutogroupNice } from '../priority.js'
import { SENT_LINE_PREFIX } from './args.js'
import { parseSkippedDeletes, REFUSED_LINE_PREFIX, unescapeRsyncName } from './output.js'
import { isTransportFailure } from './ssh-connections.js'

export interface RsyncInvocation {
  args: readonly string[]
  /** Fed to rsync's stdin (the `--files-from=-` list). */
  input?: Uint8Array | undefined
  /** Goes to the child's environment only; never to argv or logs. */
  password?: string | undefined
  /** Hard limit: SIGTERM to the whole process group, SIGKILL after `killGraceMs`. */
  deadlineMs: number
  killGraceMs: number
  /** Aborting stops the run the same way the deadline does. */
  signal?: AbortSignal | undefined
  /** The shared SSH connection the run goes through (its socket at the start); retired when the run's connection fails. */
  sshControl?: { readonly path: string, retire (path: string): void } | undefined
}

export interface RsyncOutcome {
  /** null when rsync could not be started or was killed by a signal. */
  exitCode: number | null
  signal: string | null
  /** stdout without the sent-item lines (the stats, a listing). */
  stdout: string
  /** What the run sent or updated, relative to the source (`--out-format`); at most MAX_SENT_NAMES. */
  sent: string[]
  sentTruncated: boolean
  /** The last lines of stderr, secrets removed. */
  stderrTail: string
  /** Lines rsync printed about vanished files (exit 24), kept whole. */
  vanishedLines: string[]
  /** Lines where a daemon refused a name (its `exclude`), kept whole; see `otherErrorLines`. */
  refusedLines: string[]
  /** How many error lines were neither a refusal nor rsync's closing summary (or refusals past the cap). */
  otherErrorLines: number
  /** Deletions `--max-delete` kept from happening (rsync's own count, files inside deleted directories included). */
  skippedDeletes: number
  timedOut: boolean
  aborted: boolean
  /** Set when the process could not be spawned at all (e.g. rsync not installed). */
  spawnError: string | null
}

/** The seam between the sync engine and the rsync binary. */
export interface RsyncRunner {
  run (invocation: RsyncInvocation): Promise<RsyncOutcome>
}

export interface ExecaRunnerOptions {
  binary: string
  /** The environment children start from; rsync-specific variables are scrubbed from it. */
  baseEnv: Record<string, string | undefined>
  /**
   * How far below this process each run is niced. On a busy host the writers, the HTTP API and
   * rsync all want the CPUs at once; replication can wait a little, a health
   * probe that times out takes the server out of its pool.
   */
  nice?: number
}

const STDERR_TAIL_BYTES = 8 * 1024
/**
 * How long rsync's pipes may stay open after it exited. An ssh that joined a
 * shared connection handed them to the master, which keeps them while the
 * remote command lives: a hung remote rsync must not hold the run (or the
 * shutdown) after the deadline killed the local one.
 */
const STDIO_GRACE_MS = 2_000
const MAX_VANISHED_LINES = 100_000
const MAX_SENT_NAMES = 100_000
const MAX_STDOUT_CHARS = 16 * 1024 * 1024

/**
 * Runs rsync in its own process group so that a deadline or abort reaches
 * its helpers too (the local receiver, ssh): killing only the direct child
 * would leave them holding the pipes and the run would never settle.
 */
export function createExecaRunner (opts: ExecaRunnerOptions): RsyncRunner {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(opts.baseEnv)) {
    // These change how rsync parses its arguments or authenticates.
    if (v !== undefined && !['RSYNC_PASSWORD', 'RSYNC_OLD_ARGS', 'RSYNC_PROTECT_ARGS', 'RSYNC_RSH'].includes(k)) env[k] = v
  }

  const nice = opts.nice ?? 0
  const ownAutogroupNice = nice > 0 ? readAutogroupNice('self') : undefined

  return {
    async run (inv) {
      const childEnv = inv.password === undefined ? env : { ...env, RSYNC_PASSWORD: inv.password }
      const redact = (s: string): string => (inv.password ? s.split(inv.password).join('[REDACTED]') : s)
      let stderrTail = ''
      let partialLine = ''
      const vanishedLines: string[] = []
      const refusedLines: string[] = []
      let otherErrorLines = 0
      let skippedDeletes = 0
      const stderrLine = (line: string): void => {
        const skipped = parseSkippedDeletes(line)
        if (skipped !== null) {
          skippedDeletes += skipped
        } else if (line.startsWith('file has vanished: ')) {
          if (vanishedLines.length < MAX_VANISHED_LINES) vanishedLines.push(line)
        } else if (line.startsWith(REFUSED_LINE_PREFIX) && refusedLines.length < MAX_VANISHED_LINES) {
          refusedLines.push(line)
        } else if (line.startsWith('rsync: ') || line.startsWith('ERROR: ') || line.startsWith('IO error')) {
          otherErrorLines++
        }
      }
      let timedOut = false
      let aborted = false
      let stdout = ''
      let stdoutPartial = ''
      const sent: string[] = []
      let sentTruncated = false
      const stdoutLine = (line: string): void => {
        if (line.startsWith(SENT_LINE_PREFIX)) {
          const name = unescapeRsyncName(line.slice(SENT_LINE_PREFIX.length)).replace(/\/$/, '')
          if (name === '.' || name === '') return
          if (sent.length < MAX_SENT_NAMES) sent.push(name)
          else sentTruncated = true
        } else if (stdout.length < MAX_STDOUT_CHARS) {
          stdout += `${line}\n`
        }
      }

      const controlPath = inv.sshControl?.path
      const child = execa(opts.binary, inv.args, {
        input: inv.input ?? Buffer.alloc(0),
        env: childEnv,
        extendEnv: false,
        detached: true,
        reject: false,
        // stdout is read as it comes: a mirror may name a million sent files.
        buffer: false,
        stripFinalNewline: false,
        forceKillAfterDelay: false,
      })

      let stdioTimer: NodeJS.Timeout | undefined
      child.once('exit', () => {
        stdioTimer = setTimeout(() => {
          // Whatever of rsync's is left (an ssh waiting on its master) goes too.
          signalGroup(child.pid, 'SIGTERM')
          child.stdout?.destroy()
          child.stderr?.destroy()
        }, STDIO_GRACE_MS)
      })
      if (nice > 0 && child.pid !== undefined) lowerChildPriority(child.pid, nice, ownAutogroupNice)
      child.stdout?.setEncoding('utf8')
      child.stdout?.on('data', (chunk: string) => {
        const lines = (stdoutPartial + chunk).split('\n')
        stdoutPartial = lines.pop() ?? ''
        for (const line of lines) stdoutLine(line)
      })
      child.stderr?.setEncoding('utf8')
      child.stderr?.on('data', (chunk: string) => {
        stderrTail = (stderrTail + chunk).slice(-STDERR_TAIL_BYTES)
        const lines = (partialLine + chunk).split('\n')
        partialLine = lines.pop() ?? ''
        for (const line of lines) stderrLine(line)
      })

      let killTimer: NodeJS.Timeout | undefined
      const killGroup = (why: 'deadline' | 'abort'): void => {
        if (why === 'deadline') timedOut = true
        else aborted = true
        signalGroup(child.pid, 'SIGTERM')
        killTimer ??= setTimeout(() => signalGroup(child.pid, 'SIGKILL'), inv.killGraceMs)
      }
      const deadline = setTimeout(() => killGroup('deadline'), inv.deadlineMs)
      const onAbort = (): void => killGroup('abort')
      if (inv.signal?.aborted) onAbort()
      else inv.signal?.addEventListener('abort', onAbort, { once: true })

      const result = await child
      clearTimeout(deadline)
      clearTimeout(killTimer)
      clearTimeout(stdioTimer)
      inv.signal?.removeEventListener('abort', onAbort)
      if (partialLine !== '') stderrLine(partialLine)
      if (stdoutPartial !== '') stdoutLine(stdoutPartial)

      const spawnError = result.failed && result.exitCode === undefined && result.signal === undefined
        ? (result.originalMessage ?? result.shortMessage)
        : null
      if (controlPath !== undefined && isTransportFailure({ exitCode: result.exitCode ?? null, timedOut, aborted })) inv.sshControl!.retire(controlPath)
      return {
        exitCode: result.exitCode ?? null,
        signal: result.signal ?? null,
        stdout,
        sent,
        sentTruncated,
        stderrTail: redact(stderrTail).trim(),
        vanishedLines: vanishedLines.map(redact),
        refusedLines: refusedLines.map(redact),
        otherErrorLines,
        skippedDeletes,
        timedOut,
        aborted,
        spawnError: spawnError == null ? null : redact(spawnError),
      }
    },
  }
}

function signalGroup (pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, signal)
  } catch {
    // The group is already gone.
  }
}
