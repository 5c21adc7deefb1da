import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pino } from 'pino'
import { openDatabase, type Db } from '../../src/db/open.js'
import { migrate } from '../../src/db/migrate.js'
import { createJobStore, type Job } from '../../src/db/job-store.js'
import { createPendingStore } from '../../src/db/pending-store.js'
import { createSettingsStore } from '../../src/db/settings-store.js'
import type { RsyncInvocation, RsyncOutcome, RsyncRunner } from '../../src/rsync/runner.js'
import { createSyncEngine, type EngineOptions, type EngineTimers, type TargetStatus } from '../../src/sync/engine.js'
import { parseTargetUrl } from '../../src/config/target-url.js'
import type { ResolvedTarget } from '../../src/sync/targets.js'
import { makeTempDir } from './temp-dir.js'
import type { Teardown } from './teardown.js'

/**
 * The engine alone, in milliseconds: a clock and timers the test moves by
 * hand, an rsync runner whose runs the test ends by hand, and the real
 * stores over an in-memory SQLite database.
 */

export function createFakeClock (start = 1_000_000) {
  let now = start
  let nextId = 1
  const timers = new Map<number, { at: number, every: number | null, fn: () => void }>()
  const engineTimers: EngineTimers = {
    setTimeout: (fn, ms) => {
      timers.set(nextId, { at: now + ms, every: null, fn })
      return nextId++
    },
    clearTimeout: (handle) => { timers.delete(handle as number) },
    setInterval: (fn, ms) => {
      timers.set(nextId, { at: now + ms, every: ms, fn })
      return nextId++
    },
    clearInterval: (handle) => { timers.delete(handle as number) },
  }
  return {
    timers: engineTimers,
    now: () => now,
    /** Moves the clock by `ms`, firing each timer at its time, in order. */
    advance (ms: number): void {
      const end = now + ms
      for (;;) {
        const due = [...timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0]
        if (due === undefined) break
        const [id, timer] = due
        now = timer.at
        if (timer.every === null) timers.delete(id)
        else timer.at += timer.every
        timer.fn()
      }
      now = end
    },
    /** When the timers waiting now are due, from the current time. */
    waiting: (): number[] => [...timers.values()].map((t) => t.at - now).sort((a, b) => a - b),
  }
}

export type FakeClock = ReturnType<typeof createFakeClock>

export function outcome (fields: Partial<RsyncOutcome> = {}): RsyncOutcome {
  return {
    exitCode: 0,
    signal: null,
    stdout: '',
    sent: [],
    sentTruncated: false,
    stderrTail: '',
    vanishedLines: [],
    refusedLines: [],
    otherErrorLines: 0,
    skippedDeletes: 0,
    timedOut: false,
    aborted: false,
    spawnError: null,
    ...fields,
  }
}

export interface FakeRun {
  invocation: RsyncInvocation
  /** A full mirror has no file list; an incremental run lists its paths on stdin. */
  kind: 'incremental' | 'full'
  /** The names an incremental run lists (directories of the paths included). */
  listed: string[]
  end (fields?: Partial<RsyncOutcome>): void
}

/** An RsyncRunner whose runs wait until the test ends them; an aborted run ends by itself, as rsync would. */
export function createFakeRunner () {
  const unclaimed: FakeRun[] = []
  const claims: Array<(run: FakeRun) => void> = []
  let running = 0
  const runner: RsyncRunner = {
    run (invocation) {
      running++
      return new Promise<RsyncOutcome>((resolve) => {
        let ended = false
        const end = (fields: Partial<RsyncOutcome> = {}): void => {
          if (ended) throw new Error('this run has already ended')
          ended = true
          running--
          resolve(outcome(fields))
        }
        invocation.signal?.addEventListener('abort', () => { if (!ended) end({ exitCode: null, signal: 'SIGTERM', aborted: true }) })
        const listed = invocation.input === undefined ? [] : Buffer.from(invocation.input).toString('utf8').split('\0').filter((n) => n !== '')
        const run: FakeRun = { invocation, kind: invocation.input === undefined ? 'full' : 'incremental', listed, end }
        const claim = claims.shift()
        if (claim !== undefined) claim(run)
        else unclaimed.push(run)
      })
    },
  }
  return {
    runner,
    /** The next run the engine starts (one already started and not taken yet first); fails after `timeoutMs` of real time. */
    next (timeoutMs = 2_000): Promise<FakeRun> {
      const run = unclaimed.shift()
      if (run !== undefined) return Promise.resolve(run)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          claims.splice(claims.indexOf(claim), 1)
          reject(new Error(`no rsync run started within ${timeoutMs} ms`))
        }, timeoutMs)
        const claim = (r: FakeRun): void => {
          clearTimeout(timer)
          resolve(r)
        }
        claims.push(claim)
      })
    },
    /** Runs started that the test has not taken with next(). */
    unclaimed: (): number => unclaimed.length,
    /** Runs started and not ended. */
    running: (): number => running,
  }
}

export const baseOptions = (source: string): EngineOptions => ({
  source,
  excludes: [],
  batch: { quietMs: 100, maxDelayMs: 1_000, maxPaths: 1_000, maxPending: 10_000 },
  rsync: { ioTimeoutSec: 30, connectTimeoutSec: 10, deadlineSec: 900, killGraceSec: 1, extraArgs: [] },
  fullSync: { compare: 'mtime-ns', deadlineSec: 86_400, intervalSec: 0, afterCrash: false },
  retry: { initialDelayMs: 1_000, maxDelayMs: 8_000, jitter: 0 },
  deletes: { maxFiles: 0, maxPercent: 100, minFiles: 0 },
})

export interface HarnessOptions {
  options?: (base: EngineOptions) => EngineOptions
  targets?: string[]
  /** Runs on the stores before the engine is made (what a previous process left). */
  before?: (stores: { db: Db, settings: ReturnType<typeof createSettingsStore>, jobs: ReturnType<typeof createJobStore>, pending: ReturnType<typeof createPendingStore> }) => void
}

/** A local target as resolveTarget makes it (without loading the config schema: these tests start in a blink). */
export function localTarget (name: string, url: string): ResolvedTarget {
  return { name, url, parsed: parseTargetUrl(url), ssh: undefined, sshLanes: undefined, password: undefined, rsync: { exclude: [], extraArgs: [] } }
}

/** An engine over a temp source (holding one file) and local targets; not started. Torn down after the test. */
export async function createEngineHarness (t: Teardown, opts: HarnessOptions = {}) {
  const tmp = await makeTempDir(t, 'syncplane-engine-')
  const source = path.join(tmp.path, 'source')
  await mkdir(source)
  // A mirror of an empty source is refused before it runs (see mirror-guard.ts).
  await writeFile(path.join(source, 'seed.txt'), 'seed')
  const db = openDatabase(':memory:')
  migrate(db)
  const jobs = createJobStore(db, { pathsPerJob: 1_000 })
  const pending = createPendingStore(db)
  const settings = createSettingsStore(db)
  opts.before?.({ db, settings, jobs, pending })
  const clock = createFakeClock()
  const fake = createFakeRunner()
  const options = (opts.options ?? ((o) => o))(baseOptions(source))
  const targets = (opts.targets ?? ['backup']).map((name) => localTarget(name, `${path.join(tmp.path, name)}/`))
  const engine = createSyncEngine({
    options,
    targets,
    jobs,
    pending,
    settings,
    runner: fake.runner,
    logger: pino({ level: 'silent' }),
    watcherStatus: () => ({ state: 'running', lastError: null }),
    now: clock.now,
    random: () => 0.5,
    timers: clock.timers,
  })
  const finished: Job[] = []
  const finishWaiters: Array<(job: Job) => void> = []
  engine.subscribe((event) => {
    if (event.type !== 'job.finished') return
    const waiter = finishWaiters.shift()
    if (waiter !== undefined) waiter(event.job)
    else finished.push(event.job)
  })
  tmp.after(async () => {
    await engine.destroy()
    db.close()
  })

  return {
    engine,
    clock,
    runner: fake,
    jobs,
    settings,
    pending,
    source,
    /** The status of target `name` (the first one by default). */
    target (name = targets[0]!.name): TargetStatus {
      const s = engine.status().targets.find((x) => x.name === name)
      if (s === undefined) throw new Error(`no target ${name}`)
      return s
    },
    job (id: number): Job {
      const j = jobs.get(id)
      if (j === undefined) throw new Error(`no job ${id}`)
      return j
    },
    /** Records the changes and lets the batch window (batch.quietMs) pass: the run that starts for them. */
    async runOf (paths: string[]) {
      engine.recordChanges(paths)
      clock.advance(options.batch.quietMs)
      return await fake.next()
    },
    /** The next job to finish (one finished and not taken yet first); fails after `timeoutMs` of real time. */
    nextFinished (timeoutMs = 2_000): Promise<Job> {
      const job = finished.shift()
      if (job !== undefined) return Promise.resolve(job)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          finishWaiters.splice(finishWaiters.indexOf(waiter), 1)
          reject(new Error(`no job finished within ${timeoutMs} ms`))
        }, timeoutMs)
        const waiter = (j: Job): void => {
          clearTimeout(timer)
          resolve(j)
        }
        finishWaiters.push(waiter)
      })
    },
  }
}
