import { readdirSync } from 'node:fs'
import { buildListArgs, type RsyncCommonOptions } from '../rsync/args.js'
import type { RsyncRunner } from '../rsync/runner.js'
import type { ResolvedTarget } from './targets.js'

interface GuardInput {
  source: string
  target: ResolvedTarget
  common: RsyncCommonOptions
  runner: RsyncRunner
  force: boolean
  signal: AbortSignal
}

const LIST_DEADLINE_MS = 60_000

/**
 * A full mirror runs with `--delete`. If the source is missing or empty
 * (an upload volume that did not mount) while the target still holds files,
 * mirroring would wipe every replica. Refuse unless an operator forces it.
 * Returns the reason for refusing, or null when the mirror may run.
 */
export async function checkMirrorSafety (input: GuardInput): Promise<string | null> {
  let entries: string[]
  try {
    entries = readdirSync(input.source)
  } catch (err) {
    return `source directory ${input.source} is not readable (${(err as NodeJS.ErrnoException).code ?? 'error'}); refusing to mirror it with --delete`
  }
  if (entries.length > 0 || input.force) return null
  const targetEntries = await countTargetEntries(input)
  if (targetEntries === 0) return null
  const held = targetEntries === null ? 'may hold files (it could not be listed)' : 'still holds files'
  return `source directory ${input.source} is empty but the target ${held}; refusing to delete them with a full mirror (an unmounted volume looks like this). Check the source, then POST /v1/resync with {"force": true} to mirror anyway`
}

async function countTargetEntries (input: GuardInput): Promise<number | null> {
  const { parsed } = input.target
  if (parsed.kind === 'local') {
    try {
      return readdirSync(parsed.path).length
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 0 : null
    }
  }
  const outcome = await input.runner.run({
    args: buildListArgs(input.target, input.common),
    password: input.target.password,
    deadlineMs: LIST_DEADLINE_MS,
    killGraceMs: 2_000,
    signal: input.signal,
  })
  if (outcome.exitCode !== 0) return null
  // One line per entry; the directory itself is listed as ".".
  return outcome.stdout.split('\n').filter((line) => line.trim() !== '' && !line.endsWith(' .')).length
}
