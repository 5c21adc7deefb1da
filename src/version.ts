import { readFileSync } from 'node:fs'

/**
 * syncplane's version, from the package.json one level above this file:
 * beside src/ in a checkout, beside dist/ in the package and the image. Read
 * when asked, so the client commands that never need it never touch the disk.
 */
export function packageVersion (): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}
