import { encodeFileList } from '../rsync/args.js'
import { isSmallRun, lstatKindOf, lstatKindsOf, planBatch, type KindOf } from './batch-plan.js'

/** An incremental run as planned from a batch's paths (see planBatch). */
export interface PlannedRun {
  /** The `--files-from=-` list, encoded for rsync's stdin. */
  input: Uint8Array
  /** How many entries it lists. */
  listed: number
  /** A few small files (see isSmallRun). */
  small: boolean
}

/** What the engine asks of the source: the run a batch makes, and which names a run sent are gone. */
export interface SourceLookup {
  plan (paths: readonly string[]): Promise<PlannedRun>
  missing (names: readonly string[]): Promise<string[]>
  close (): Promise<void>
}

export function planRun (source: string, paths: readonly string[], kindOf: KindOf): PlannedRun {
  const list = planBatch(paths, kindOf)
  return { input: encodeFileList(list), listed: list.length, small: isSmallRun(source, list) }
}

/** Lookups on this thread: many paths are looked up on libuv's pool first, so the loop only plans. */
export function createInProcessLookup (source: string): SourceLookup {
  const kindOf = lstatKindOf(source)
  const kindsOf = lstatKindsOf(source)
  return {
    async plan (paths) {
      const known = await kindsOf(paths)
      return planRun(source, paths, (rel) => known.get(rel) ?? kindOf(rel))
    },
    async missing (names) {
      const kinds = await kindsOf(names)
      return names.filter((n) => kinds.get(n) === 'missing')
    },
    async close () {},
  }
}

/** Up to this many paths are looked up on the event loop (about a millisecond of lstats). */
const SMALL_LOOKUP = 256

/**
 * What the engine asks of the source, each question answered on the event
 * loop when small: a few lookups cost the loop less than a trip to another
 * thread, and never wait for a niced one (a single upload's latency depends
 * on this).
 */
export function createSourceQueries (source: string, lookup: SourceLookup = createInProcessLookup(source)) {
  const kindOf = lstatKindOf(source)
  const isMissing = (rel: string): boolean => kindOf(rel) === 'missing'
  return {
    isMissing,
    /** The incremental run a batch makes (see planBatch). */
    plan: async (paths: readonly string[]): Promise<PlannedRun> =>
      paths.length <= SMALL_LOOKUP ? planRun(source, paths, kindOf) : lookup.plan(paths),
    /** Which of `names` are gone from the source now. */
    missingOf: async (names: readonly string[]): Promise<string[]> =>
      names.length <= SMALL_LOOKUP ? names.filter(isMissing) : lookup.missing(names),
  }
}
