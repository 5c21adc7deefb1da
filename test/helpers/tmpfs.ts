import { execFileSync } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import type { TestContext } from 'node:test'

/**
 * Mounts a fresh tmpfs at `dir` (CI runs as root) and unmounts it when the
 * test ends, whatever the test did to it meanwhile.
 */
export async function mountTmpfs (t: TestContext, dir: string, size = '16m'): Promise<void> {
  await mkdir(dir, { recursive: true })
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir])
  t.after(() => unmountAll(dir))
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
