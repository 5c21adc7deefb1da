import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'

/**
 * The filesystem a bench run's trees live on.
 *
 * This machine's root filesystem is ext4 without a journal. There ext4 passes
 * over each inode freed in the last 60 s (360 s while its table block is
 * dirty) when it allocates one (`recently_deleted()` in fs/ext4/ialloc.c,
 * only checked when there is no journal), so a system started right after
 * the previous one's trees were removed created each file behind a scan of
 * thousands of such inodes: the same build's mesh burst took 4 s or 8.7 s,
 * 11 or 18 CPU-s, by what had been deleted in the minute before
 * (docs/performance.md). BENCH_FS=ext4, the default as root, gives the run
 * a fresh ext4 of its own, with the journal a server's filesystem has, on a
 * sparse image mounted through a loop device; BENCH_FS=tmp uses TMPDIR as
 * before.
 */
export interface WorkFs {
  /** The directory the run's trees go under. */
  dir: string
  /** For the report: what `dir` is on. */
  describe: string
  /** Unmounts and removes what `createWorkFs` made. */
  release (): Promise<void>
}

/** Apparent size of the image: sparse, so only what the run writes takes disk. */
const IMAGE_BYTES = 64 * 2 ** 30
/** Bytes per inode: 4 M inodes, for the million-file scale tree and its replica. */
const BYTES_PER_INODE = 16_384

export async function createWorkFs (mode: string | undefined): Promise<WorkFs> {
  const wanted = mode ?? (process.getuid?.() === 0 ? 'ext4' : 'tmp')
  if (wanted === 'tmp') return tmpWorkFs('')
  if (wanted !== 'ext4') throw new Error(`BENCH_FS=${wanted}: expected ext4 or tmp`)
  const base = mkdtempSync(path.join(tmpdir(), 'syncplane-bench-fs-'))
  const image = path.join(base, 'fs.img')
  const mnt = path.join(base, 'mnt')
  try {
    const file = await open(image, 'w')
    await file.truncate(IMAGE_BYTES)
    await file.close()
    execFileSync('mkfs.ext4', ['-q', '-F', '-i', String(BYTES_PER_INODE), '-E', 'nodiscard', image], { stdio: 'pipe' })
    mkdirSync(mnt)
    execFileSync('mount', ['-o', 'loop', image, mnt], { stdio: 'pipe' })
  } catch (err) {
    rmSync(base, { recursive: true, force: true })
    const why = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim().split('\n')[0]
    if (mode === 'ext4') throw new Error(`BENCH_FS=ext4: could not make a loop-mounted ext4: ${why}`)
    process.stderr.write(`bench: no loop-mounted ext4 (${why}); the trees go under TMPDIR\n`)
    return tmpWorkFs(' (a loop-mounted ext4 could not be made)')
  }
  return {
    dir: mnt,
    describe: 'a fresh ext4 with a journal (sparse image, loop device)',
    async release () {
      try {
        execFileSync('umount', [mnt], { stdio: 'pipe' })
      } catch {
        execFileSync('umount', ['-l', mnt], { stdio: 'pipe' })
      }
      await rm(base, { recursive: true, force: true })
    },
  }
}

function tmpWorkFs (note: string): WorkFs {
  const dir = tmpdir()
  // statfs's type is a magic number; the common ones named, the rest in hex.
  const magic: Record<number, string> = { 0xef53: 'ext4', 0x01021994: 'tmpfs', 0x58465342: 'xfs', 0x9123683e: 'btrfs' }
  const type = statfsSync(dir).type
  return {
    dir,
    describe: `TMPDIR (${dir}, ${magic[type] ?? `fs type 0x${type.toString(16)}`})${note}`,
    release: async () => {},
  }
}
