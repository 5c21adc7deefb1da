import { execFileSync } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import type { TempDir } from './temp-dir.js'

/**
 * Mounts a fresh tmpfs at `dir`, inside the test's directory (CI runs as
 * root), and unmounts it when the test ends, whatever the test did to it
 * meanwhile: after what was started later (a service watching it), before
 * the directory is removed.
 */
export async function mountTmpfs (tmp: TempDir, dir: string, size = '16m'): Promise<void> {
  await mkdir(dir, { recursive: true })
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir])
  tmp.after(() => unmountAll(dir))
}

/** Lazily unmounts `dir` (what an operator's `umount -l` does): open handles keep the old tree, the path shows what lies below. */
export function unmountLazily (dir: string): void {
  execFileSync('umount', ['-l', dir])
}

function unmountAll (dir: string): void {
  for (let i = 0; i < 10; i++) {
    try {
      execFileSync('mountpoint', ['-q', dir])
    } catch {
      return
    }
    execFileSync('umount', ['-l', dir])
  }
}

export function canMount (): boolean {
  return process.getuid?.() === 0
}
