import { describe, test, before } from 'node:test'
import assert from 'node:assert/strict'
import { appendFile, mkdir, rename, rm, symlink, utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeTempDir, type TempDir } from '../helpers/temp-dir.js'
import { suiteTeardown } from '../helpers/teardown.js'
import { isRsyncTempFile, waitForTreesEqual } from '../helpers/tree.js'
import { startSyncplane, type SyncplaneHarness } from '../helpers/syncplane.js'
import { waitFor } from '../helpers/wait-for.js'
import { skipReason, startTarget, TARGET_KINDS, type TestTarget } from '../helpers/targets.js'

const HOSTILE_NAMES = [
  'with space.txt',
  'new\nline.txt',
  '-leading-dash',
  '--double-dash',
  'ünïcödé-日本.txt',
  'star*.txt',
  'back\\slash',
  'quotes "double" \'single\'',
  'brackets[1]?.txt',
  'tilde~',
  '.hidden',
]

for (const kind of TARGET_KINDS) {
  describe(`replication to a ${kind} target`, { skip: skipReason(kind) }, () => {
    let tmp: TempDir
    let target: TestTarget
    let sp: SyncplaneHarness
    let src: (...parts: string[]) => string

    const converged = () => waitForTreesEqual(sp.source, target.dir, { ignore: isRsyncTempFile, timeoutMs: 15_000 })

    const teardown = suiteTeardown()
    before(async () => {
      tmp = await makeTempDir(teardown)
      target = await startTarget(tmp, kind)
      sp = await startSyncplane(tmp, { targets: [target.config], env: target.env })
      src = (...parts) => path.join(sp.source, ...parts)
    })

    test('created files and nested directories appear on the target', async () => {
      await writeFile(src('top.txt'), 'top\n')
      await mkdir(src('a', 'b', 'c'), { recursive: true })
      await writeFile(src('a', 'b', 'c', 'deep.txt'), 'deep\n')
      await mkdir(src('empty-dir'))
      await converged()
    })

    test('a modified file is updated on the target', async () => {
      await appendFile(src('top.txt'), 'more\n')
      await converged()
    })

    test('a same-size rewrite with the same mtime is still replicated', async () => {
      const file = src('same-size.txt')
      const stamp = new Date('2024-01-01T00:00:00Z')
      await writeFile(file, 'AAAA')
      await utimes(file, stamp, stamp)
      await converged()
      await writeFile(file, 'BBBB')
      await utimes(file, stamp, stamp)
      await converged()
    })

    test('a deleted file disappears from the target', async () => {
      await rm(src('top.txt'))
      await converged()
    })

    test('a deleted non-empty directory disappears from the target', async () => {
      await mkdir(src('doomed', 'inner', 'deeper'), { recursive: true })
      await writeFile(src('doomed', 'inner', 'deeper', 'f.txt'), 'x')
      await writeFile(src('doomed', 'g.txt'), 'y')
      await converged()
      await rm(src('doomed'), { recursive: true })
      await converged()
    })

    test('a renamed file and a renamed directory with contents move on the target', async () => {
      await writeFile(src('before.txt'), 'rename me')
      await mkdir(src('olddir', 'sub'), { recursive: true })
      await writeFile(src('olddir', 'sub', 'x.txt'), 'inside')
      await converged()
      await rename(src('before.txt'), src('after.txt'))
      await rename(src('olddir'), src('newdir'))
      await converged()
    })

    test('hostile file names replicate like any other', async () => {
      await mkdir(src('hostile dir -x'), { recursive: true })
      for (const name of HOSTILE_NAMES) {
        await writeFile(src(name), `content of ${name}`)
        await writeFile(src('hostile dir -x', name), name)
      }
      await converged()
      await rm(src('new\nline.txt'))
      await rm(src('hostile dir -x'), { recursive: true })
      await converged()
    })

    test('symlinks are replicated as links, not followed', async () => {
      await writeFile(src('link-target.txt'), 'pointed at')
      await symlink('link-target.txt', src('relative-link'))
      // Relative: a daemon module without chroot rewrites absolute link targets.
      await symlink('nowhere/to-be-found', src('dangling-link'))
      await converged()
    })

    test('a populated tree moved into the source replicates whole', async () => {
      const outside = path.join(tmp.path, 'outside-tree')
      await mkdir(path.join(outside, 'l1', 'l2', 'l3'), { recursive: true })
      for (let i = 0; i < 20; i++) await writeFile(path.join(outside, 'l1', 'l2', 'l3', `f${i}.txt`), `file ${i}`)
      await writeFile(path.join(outside, 'l1', 'top.txt'), 'top')
      await rename(outside, src('moved-in'))
      await converged()
    })

    test('every run was recorded as a succeeded job', async () => {
      type Row = { status: string; kind: string; trigger: string }
      // Events that arrived after the trees matched may still be syncing.
      const jobs = await waitFor(async () => {
        const res = await sp.app.inject({ url: `/v1/jobs?target=${target.config.name as string}&limit=500` })
        assert.equal(res.statusCode, 200)
        const rows = (res.json() as { jobs: Row[] }).jobs
        return rows.every((j) => j.status !== 'running' && j.status !== 'queued') ? rows : undefined
      }, { message: 'no job still running' })
      assert.ok(jobs.length > 0)
      assert.deepEqual(jobs.filter((j) => j.status !== 'succeeded'), [])
      assert.ok(jobs.some((j) => j.kind === 'full' && j.trigger === 'startup'))
      assert.ok(jobs.some((j) => j.kind === 'incremental' && j.trigger === 'watch'))
    })
  })
}
