import { readFileSync } from 'node:fs'
import { packageFile } from './package-dir.js'

/**
 * syncplane's version, from the package's package.json. Read when asked,
 * so the client commands that never need it never touch the disk.
 */
export function packageVersion (): string {
  const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }
  return pkg.version
}
