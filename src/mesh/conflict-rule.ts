import { createHash } from 'node:crypto'

/**
 * The conflict rule, the same on every node so that every node ends with
 * the same tree: of two concurrent versions of a path, the one with the
 * later hybrid clock wins (ties: the larger node name); the loser is kept
 * beside it under a name derived from the losing version alone. Every node
 * that meets the same conflict, in whatever order, makes the same copy with
 * the same bytes, so copies never multiply, and a conflict on a copy is
 * resolved like any other (its loser gets a copy of its own): no upload's
 * bytes are ever dropped.
 */
export interface VersionStamp {
  /** Hybrid logical clock of the version: milliseconds, strictly increasing per node. */
  hlc: number
  /** The node that made the version. */
  origin: string
}

/** Whether version `a` wins over the concurrent version `b`. */
export function wins (a: VersionStamp, b: VersionStamp): boolean {
  if (a.hlc !== b.hlc) return a.hlc > b.hlc
  return a.origin > b.origin
}

/** Linux's NAME_MAX: a conflict copy's name must fit it whatever the original's length. */
export const NAME_MAX_BYTES = 255
const MARK = '.sync-conflict-'
const MAX_EXT_BYTES = 32

/** `dir/stem.sync-conflict-YYYYMMDD-HHMMSS-mmm-origin.ext` for the losing version `loser` of `path`. */
export function conflictCopyPath (path: string, loser: VersionStamp): string {
  const slash = path.lastIndexOf('/')
  const dir = slash === -1 ? '' : path.slice(0, slash + 1)
  const base = path.slice(slash + 1)
  const dot = base.lastIndexOf('.')
  const hasExt = dot > 0 && Buffer.byteLength(base.slice(dot)) <= MAX_EXT_BYTES
  const stem = hasExt ? base.slice(0, dot) : base
  const ext = hasExt ? base.slice(dot) : ''
  const suffix = `${MARK}${stampOf(loser.hlc)}-${loser.origin}${ext}`
  const room = NAME_MAX_BYTES - Buffer.byteLength(suffix)
  if (Buffer.byteLength(stem) <= room) return `${dir}${stem}${suffix}`
  // Too long: cut the stem and name what was cut, so two long names never meet.
  const tag = `~${createHash('sha256').update(base).digest('hex').slice(0, 8)}`
  return `${dir}${truncateUtf8(stem, room - tag.length)}${tag}${suffix}`
}

function stampOf (hlc: number): string {
  const iso = new Date(hlc).toISOString() // 2026-12-02T08:45:12.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}-${iso.slice(20, 23)}`
}

/** The longest prefix of `s` that fits `bytes` in UTF-8 without splitting a character. */
function truncateUtf8 (s: string, bytes: number): string {
  let out = ''
  let used = 0
  for (const ch of s) {
    const size = Buffer.byteLength(ch)
    if (used + size > bytes) break
    out += ch
    used += size
  }
  return out
}
