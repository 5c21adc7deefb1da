import { readdirSync } from 'node:fs'
import { buildListArgs, type RsyncCommonOptions } from '../rsync/args.js'
import { describeFailedRun } from '../rsync/output.js'
import type { RsyncRunner } from '../rsync/runner.js'
import { invocationTo, type ResolvedTarget } from './targets.js'
import { isSentinelName } from '../watcher/flush-sentinel.js'

interface GuardInput {
  source: string
  target: ResolvedTarget
  common: RsyncCommonOptions
  runner: RsyncRunner
  force: boolean
  signal: AbortSignal
}

export interface Refusal {
  reason: string
  /** `slow` when only an operator can fix it; `normal` when it may pass by itself (the target was unreachable). */
  retry: 'slow' | 'normal'
  /** The mirror may run, sending what there is, but every deletion it would make is held. */
  holdDeletes?: boolean
}

const LIST_DEADLINE_MS = 60_000

/**
 * A full mirror runs with `--delete`. If the source is missing or empty
 * (an upload volume that did not mount) while the target still holds files,
 * mirroring would wipe every replica: its deletions are held unless an
 * operator forces it. An unreadable source, or an empty one beside a target
 * that cannot be listed, is refused.
 */
export async function checkMirrorSafety (input: GuardInput): Promise<Refusal | null> {
  let entries: string[]
  try {
    entries = userEntries(input.source)
  } catch (err) {
    return { reason: `source directory ${input.source} is not readable (${(err as NodeJS.ErrnoException).code ?? 'error'}); refusing to mirror it with --delete`, retry: 'slow' }
  }
  if (entries.length > 0 || input.force) return null
  const listed = await countTargetEntries(input)
  if (typeof listed === 'string') {
    return { reason: `source directory ${input.source} is empty and the target could not be listed to check it is empty too: ${listed}`, retry: 'normal' }
  }
  if (listed === 0) return null
  // Incremental runs go alongside a mirror, so what the target holds may be
  // what was written to the source since it was first read.
  if (sourceHasEntries(input.source)) return null
  return {
    reason: `the source directory ${input.source} is empty but the target still holds files; their deletion is held (an unmounted volume looks like this). Check the source, then confirm the deletions or force a resync`,
    retry: 'slow',
    holdDeletes: true,
  }
}

/** A flush's sentinel (excluded from every run) in an unmounted volume's empty mount point must not make it look full. */
function userEntries (source: string): string[] {
  return readdirSync(source).filter((name) => !isSentinelName(name))
}

function sourceHasEntries (source: string): boolean {
  try {
    return userEntries(source).length > 0
  } catch {
    return false
  }
}

/** The number of entries at the top of the target, or why it could not be listed. */
async function countTargetEntries (input: GuardInput): Promise<number | string> {
  const { parsed } = input.target
  if (parsed.kind === 'local') {
    try {
      return readdirSync(parsed.path).length
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      return code === 'ENOENT' ? 0 : `${code ?? 'error'} reading ${parsed.path}`
    }
  }
  const outcome = await input.runner.run(invocationTo(input.target, {
    args: buildListArgs(input.target, input.common),
    deadlineMs: LIST_DEADLINE_MS,
    killGraceMs: 2_000,
    signal: input.signal,
  }))
  if (outcome.exitCode !== 0) return describeFailedRun(outcome)
  // One line per entry; the directory itself is listed as ".".
  return outcome.stdout.split('\n').filter((line) => line.trim() !== '' && !line.endsWith(' .')).length
}
