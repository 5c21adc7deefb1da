/**
 * What a peer may name: a relative path inside the tree, `/`-separated.
 * Checked before anything touches the disk, so a message can never write,
 * rename or delete outside the tree nor inside syncplane's own directory;
 * symlinks on the way are refused when the path is used (see tree-fs.ts).
 */
export const MESH_DIR = '.syncplane'

const MAX_PATH_BYTES = 4096

/** Why `path` is not one a peer may name, or null when it is. */
export function meshPathProblem (path: string): string | null {
  if (path.length === 0) return 'is empty'
  if (path.includes('\0')) return 'contains a NUL byte'
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) return `is longer than ${MAX_PATH_BYTES} bytes`
  if (path.startsWith('/')) return 'is absolute'
  const parts = path.split('/')
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return 'has an empty, "." or ".." segment'
  if (parts[0] === MESH_DIR) return `is inside syncplane's own ${MESH_DIR}/ directory`
  if (parts.some((p) => Buffer.byteLength(p) > 255)) return 'has a name longer than 255 bytes'
  return null
}

/** Whether a path seen by the watcher is syncplane's own (staging, trash) and never a change. */
export function isMeshInternal (path: string): boolean {
  return path === MESH_DIR || path.startsWith(`${MESH_DIR}/`)
}
