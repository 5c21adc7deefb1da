/**
 * A file shipped with the package (migrations/, ui/, openapi/,
 * package.json), by its path from the package's directory. This module sits
 * one level below it, in src/ under tsx and in dist/ once built (the build
 * puts every chunk of its bundle at the top of dist/).
 */
export function packageFile (relative: string): URL {
  return new URL(`../${relative}`, import.meta.url)
}
