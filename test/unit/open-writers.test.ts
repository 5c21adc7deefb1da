import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { link, lstat, mkdir, open, rename, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { openForWrite } from '../../src/mesh/open-writers.js'
import { makeTempDir } from '../helpers/temp-dir.js'

const linux = existsSync('/proc/self/fd')

test('open-writers: a file this process has open for writing is reported, under a new name too; one open only to read, or closed, is not', { skip: !linux && 'no /proc here' }, async (t) => {
  const dir = (await makeTempDir(t, 'syncplane-open-writers-')).path
  const files = ['written', 'appended', 'updated', 'read', 'closed', 'moved', 'linked'].map((name) => path.join(dir, name))
  for (const f of files) await writeFile(f, 'x')
  const [written, appended, updated, read, closed, moved, linked] = files as [string, string, string, string, string, string, string]
  const handles = await Promise.all([open(written, 'w'), open(appended, 'a'), open(updated, 'r+'), open(read, 'r'), open(moved, 'w'), open(linked, 'w')])
  t.after(() => Promise.all(handles.map((h) => h.close().catch(() => undefined))))
  await (await open(closed, 'w')).close()
  // Displaced as syncplane does it: renamed aside, or linked aside and its name replaced (the writer's link then reads "… (deleted)").
  const movedTo = path.join(dir, 'moved-aside')
  await rename(moved, movedTo)
  const linkedTo = path.join(dir, 'linked-aside')
  await link(linked, linkedTo)
  await writeFile(path.join(dir, 'replacement'), 'y')
  await rename(path.join(dir, 'replacement'), linked)

  const found = await openForWrite([written, appended, updated, read, closed, movedTo, linkedTo, path.join(dir, 'absent')])
  assert.deepEqual([...found ?? []].sort(), [appended, linkedTo, movedTo, updated, written].sort())
  assert.deepEqual(await openForWrite([]), new Set())
})

test('open-writers: without a /proc to read, it says it cannot tell (null)', async (t) => {
  const dir = (await makeTempDir(t, 'syncplane-open-writers-')).path
  await writeFile(path.join(dir, 'f'), 'x')
  assert.equal(await openForWrite([path.join(dir, 'f')], path.join(dir, 'no-proc')), null)
  // A directory without any process in it is no /proc either.
  assert.equal(await openForWrite([path.join(dir, 'f')], dir), null)
})

/** A /proc of one process (pid 7) holding descriptor 3 on `link`, with that fdinfo and mountinfo text. */
async function fakeProc (dir: string, link: string, fdinfo: string, mountinfo: string): Promise<string> {
  const proc = path.join(dir, 'proc')
  await mkdir(path.join(proc, '7', 'fd'), { recursive: true })
  await mkdir(path.join(proc, '7', 'fdinfo'), { recursive: true })
  await mkdir(path.join(proc, 'self'), { recursive: true })
  await symlink(link, path.join(proc, '7', 'fd', '3'))
  await writeFile(path.join(proc, '7', 'fdinfo', '3'), fdinfo)
  await writeFile(path.join(proc, 'self', 'mountinfo'), mountinfo)
  return proc
}

test('open-writers: a descriptor is matched from procfs alone, never stat\'ed (a file on a hung NFS mount cannot block the scan)', async (t) => {
  const dir = (await makeTempDir(t, 'syncplane-open-writers-')).path
  const file = path.join(dir, 'held')
  await writeFile(file, 'x')
  const st = await lstat(file, { bigint: true })
  const major = ((st.dev >> 8n) & 0xfffn) | ((st.dev >> 32n) & ~0xfffn)
  const minor = (st.dev & 0xffn) | ((st.dev >> 12n) & ~0xffn)
  // The descriptor's link names a path no stat could reach (as one on a hung mount would hang): only fdinfo and mountinfo tell.
  const writer = await fakeProc(path.join(dir, 'w'), '/nfs/hung/held', `pos:\t0\nflags:\t0100001\nmnt_id:\t99\nino:\t${st.ino}\n`, `99 1 ${major}:${minor} / /nfs rw - nfs4 server:/ rw\n`)
  assert.deepEqual(await openForWrite([file], writer), new Set([file]))
  // The same inode number on another device is another file.
  const other = await fakeProc(path.join(dir, 'o'), '/nfs/hung/held', `flags:\t0100001\nmnt_id:\t99\nino:\t${st.ino}\n`, `99 1 ${major + 1n}:${minor} / /nfs rw - nfs4 server:/ rw\n`)
  assert.deepEqual(await openForWrite([file], other), new Set())
  // Open to read only: no writer.
  const reader = await fakeProc(path.join(dir, 'r'), '/nfs/hung/held', `flags:\t0100000\nmnt_id:\t99\nino:\t${st.ino}\n`, `99 1 ${major}:${minor} / /nfs rw - nfs4 server:/ rw\n`)
  assert.deepEqual(await openForWrite([file], reader), new Set())
  // A mount no mountinfo names (another namespace gone meanwhile): the inode alone decides, so the file is held, not lost.
  const unknown = await fakeProc(path.join(dir, 'u'), '/elsewhere/held', `flags:\t0100002\nmnt_id:\t12345\nino:\t${st.ino}\n`, '')
  assert.deepEqual(await openForWrite([file], unknown), new Set([file]))
})
