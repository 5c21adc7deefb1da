import { closeSync, constants, copyFileSync, linkSync, lstatSync, mkdirSync, openSync, readSync, renameSync, statSync, utimesSync, type BigIntStats } from 'node:fs'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { MESH_DIR } from './mesh-paths.js'

/**
 * The file-system moves of the mesh, all inside the tree's own file system
 * (staging, displaced files and trash live in `.syncplane/` at its top), so each one is
 * a rename or a link: atomic, keeping inode and mtime, a copy only where
 * two names must stay apart (copyAside).
 */
export interface StatKey { size: number, mtimeNs: string, ino: string }

export type Entry = { type: 'file', key: StatKey } | { type: 'dir' } | { type: 'other' } | null

/**
 * `rel` (checked, or named by the watcher or readdir: no empty, "." or ".."
 * segment) under `dir` (resolved): path.join's normalising would change
 * nothing, and run for every path of a burst it allocated more than any
 * other call on a receiving node.
 */
export function inTree (dir: string, rel: string): string {
  if (rel === '') return dir
  return dir.endsWith('/') ? dir + rel : `${dir}/${rel}`
}

/** What is at `abs` now, without following a symlink; null when nothing is. */
export function lookAt (abs: string): Entry {
  let st: BigIntStats | undefined
  try {
    // Without a thrown error for a missing path (a peer's new file is looked for before it is put there): a quarter of the cost.
    st = lstatSync(abs, { bigint: true, throwIfNoEntry: false })
  } catch (err) {
    if (isGone(err)) return null
    throw err
  }
  if (st === undefined) return null
  if (st.isFile()) return { type: 'file', key: { size: Number(st.size), mtimeNs: String(st.mtimeNs), ino: String(st.ino) } }
  if (st.isDirectory()) return { type: 'dir' }
  return { type: 'other' }
}

export function sameKey (a: StatKey, b: { size: number | null, mtimeNs: string | null, ino: string | null }): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino
}

export function isGone (err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/** syncplane's own directories in the tree; `kind` is staging, displaced or trash. */
export function meshDir (root: string, kind: 'staging' | 'displaced' | 'trash'): string {
  return path.join(root, MESH_DIR, kind)
}

/**
 * Whether every existing ancestor of `rel` inside the tree is a real
 * directory: a symlink on the way would let a peer's path write elsewhere.
 * A regular file on the way is refused too (a file where a peer has a
 * directory: nothing can be put below it).
 */
export function ancestorsAreDirectories (root: string, rel: string, look: (abs: string) => Entry = lookAt): boolean {
  const parts = rel.split('/')
  let dir = root
  for (const part of parts.slice(0, -1)) {
    dir = inTree(dir, part)
    const seen = look(dir)
    if (seen === null) return true
    if (seen.type !== 'dir') return false
  }
  return true
}

/** The first ancestor of `rel` inside `root` that is a file, relative; null if there is none. */
export function fileOnTheWay (root: string, rel: string, look: (abs: string) => Entry = lookAt): string | null {
  const parts = rel.split('/')
  for (let i = 1; i < parts.length; i++) {
    const seen = look(inTree(root, parts.slice(0, i).join('/')))
    if (seen === null || seen.type === 'other') return null
    if (seen.type === 'file') return parts.slice(0, i).join('/')
  }
  return null
}

/**
 * Whether an existing ancestor of `rel` inside `root` is a symlink (or a
 * device, a socket): a path through it may lead outside the tree, so a
 * peer's entry naming it is refused for good, not retried.
 */
export function linkOnTheWay (root: string, rel: string, look: (abs: string) => Entry = lookAt): boolean {
  let dir = root
  for (const part of rel.split('/').slice(0, -1)) {
    dir = inTree(dir, part)
    const seen = look(dir)
    if (seen === null || seen.type === 'file') return false
    if (seen.type === 'other') return true
  }
  return false
}

/** Makes the missing parents of `rel`; returns the ones it made, outermost first. */
export function makeParents (root: string, rel: string): string[] {
  const parts = rel.split('/').slice(0, -1)
  const made: string[] = []
  for (let i = 1; i <= parts.length; i++) {
    const dirRel = parts.slice(0, i).join('/')
    try {
      mkdirSync(path.join(root, dirRel))
      made.push(dirRel)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
  }
  return made
}

/**
 * Puts `from` at `to` only if nothing is there (a hard link cannot replace a
 * name: EEXIST), so a file an application created meanwhile is never
 * overwritten. Returns false when something was there.
 */
export function placeIfAbsent (from: string, to: string): boolean {
  try {
    linkSync(from, to)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
  return true
}

/** A unique name in one of the mesh directories (a displaced file, a trash entry). */
export function freshName (dir: string, base: string): string {
  mkdirSync(dir, { recursive: true })
  return path.join(dir, `${Date.now()}-${randomBytes(4).toString('hex')}-${base.slice(0, 100)}`)
}

/**
 * A copy of `abs` under a fresh name in `dir`: the one move that cannot be a
 * link, since both names stay and a write to one must not change the other
 * (a clone where the file system has them).
 */
export function copyAside (abs: string, dir: string): string {
  const to = freshName(dir, path.basename(abs))
  copyFileSync(abs, to, constants.COPYFILE_FICLONE)
  // With its mtime, as rsync gives the version to the nodes that hold it from a peer.
  const st = statSync(abs)
  utimesSync(to, st.atime, st.mtime)
  return to
}

/** Moves `abs` into the trash (same file system: a rename) instead of deleting it. */
export function moveToTrash (root: string, abs: string): void {
  renameSync(abs, freshName(meshDir(root, 'trash'), path.basename(abs)))
}

/** Whether two files hold the same bytes. */
export function sameContent (a: string, b: string): boolean {
  const sa = lstatSync(a)
  const sb = lstatSync(b)
  if (sa.size !== sb.size) return false
  const fa = openSync(a, 'r')
  const fb = openSync(b, 'r')
  try {
    const ba = Buffer.allocUnsafe(1 << 16)
    const bb = Buffer.allocUnsafe(1 << 16)
    for (;;) {
      const na = readSync(fa, ba, 0, ba.length, null)
      const nb = readSync(fb, bb, 0, bb.length, null)
      if (na !== nb) return false
      if (na === 0) return true
      if (!ba.subarray(0, na).equals(bb.subarray(0, nb))) return false
    }
  } finally {
    closeSync(fa)
    closeSync(fb)
  }
}
