import { buildPreviewArgs, PREVIEW_LINE_PREFIX, type FullCompare, type RsyncCommonOptions } from '../rsync/args.js'
import { describeFailedRun, unescapeRsyncName } from '../rsync/output.js'
import type { RsyncRunner } from '../rsync/runner.js'
import { invocationTo, type ResolvedTarget } from './targets.js'

export interface PreviewList {
  count: number
  /** The first `cap` names, in rsync's order. */
  paths: string[]
}

export interface MirrorPreview {
  target: string
  send: PreviewList
  delete: PreviewList
  /** Why the preview could not be made (the target unreachable); the lists are then empty. */
  error: string | null
}

interface PreviewInput {
  target: ResolvedTarget
  common: RsyncCommonOptions & { compare: FullCompare }
  runner: RsyncRunner
  cap: number
  deadlineMs: number
  killGraceMs: number
}

/**
 * What a forced full mirror would do to one target, changing nothing:
 * `rsync -n` itemizes every entry it would send (`<f`, `cd`, …) and delete
 * (`*deleting`). Attribute-only updates (`.d..t…`) are neither.
 */
export async function previewMirror (input: PreviewInput): Promise<MirrorPreview> {
  const { target } = input
  const outcome = await input.runner.run(invocationTo(target, {
    args: buildPreviewArgs(target, input.common),
    deadlineMs: input.deadlineMs,
    killGraceMs: input.killGraceMs,
  }))
  const preview: MirrorPreview = { target: target.name, send: { count: 0, paths: [] }, delete: { count: 0, paths: [] }, error: null }
  if (outcome.exitCode !== 0) {
    preview.error = describeFailedRun(outcome)
    return preview
  }
  for (const line of outcome.stdout.split('\n')) {
    if (!line.startsWith(PREVIEW_LINE_PREFIX)) continue
    const item = parsePreviewLine(line.slice(PREVIEW_LINE_PREFIX.length))
    if (item === null) continue
    const list = item.op === 'delete' ? preview.delete : preview.send
    list.count++
    if (list.paths.length < input.cap) list.paths.push(item.name)
  }
  return preview
}

/** One `%i %n` line: `*deleting   a/b`, `<f+++++++++ a/c`, `cd+++++++++ d/`. */
export function parsePreviewLine (rest: string): { op: 'send' | 'delete', name: string } | null {
  // %i is always 11 characters ("*deleting" is padded): a name may start with spaces.
  if (rest.length < 13 || rest[11] !== ' ') return null
  const code = rest.slice(0, 11).trimEnd()
  const name = unescapeRsyncName(rest.slice(12)).replace(/\/$/, '')
  if (name === '' || name === '.') return null
  if (code === '*deleting') return { op: 'delete', name }
  if (/^[<>ch]/.test(code)) return { op: 'send', name }
  return null
}
