import { TargetUrlError } from '../errors.js'

/**
 * The three kinds of target rsync can push to, told apart the way rsync
 * itself does: `rsync://` or `host::module` is a daemon, a colon before the
 * first slash is SSH, an absolute path is local.
 */
export type TargetUrl =
  | { kind: 'daemon'; host: string; port: number | undefined; user: string | undefined; module: string; destination: string }
  | { kind: 'ssh'; host: string; user: string | undefined; path: string; destination: string }
  | { kind: 'local'; path: string; destination: string }

export { TargetUrlError }

const withSlash = (s: string): string => (s.endsWith('/') ? s : `${s}/`)

export function parseTargetUrl (url: string): TargetUrl {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)
  if (scheme) {
    if (scheme[1]!.toLowerCase() !== 'rsync') {
      throw new TargetUrlError(`unsupported URL scheme "${scheme[1]}://" (use rsync://host/module/, [user@]host:/path for SSH, or an absolute local path)`)
    }
    const m = /^rsync:\/\/(?:([^@/]+)@)?(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/([^/]+)(\/.*)?$/i.exec(url)
    if (!m) throw new TargetUrlError('rsync URL must look like rsync://[user@]host[:port]/module/[path]')
    const port = m[3] === undefined ? undefined : Number(m[3])
    if (port !== undefined && (port < 1 || port > 65535)) throw new TargetUrlError(`port ${m[3]} is out of range`)
    return { kind: 'daemon', user: m[1], host: m[2]!, port, module: m[4]!, destination: withSlash(url) }
  }
  if (url.startsWith('/')) {
    if (url.split('/').includes('..')) throw new TargetUrlError('a local path must not contain ".."')
    return { kind: 'local', path: url, destination: withSlash(url) }
  }
  const daemon = /^(?:([^@/:]+)@)?([^:/]+)::([^/]+)(\/.*)?$/.exec(url)
  if (daemon) {
    return { kind: 'daemon', user: daemon[1], host: daemon[2]!, port: undefined, module: daemon[3]!, destination: withSlash(url) }
  }
  const ssh = /^(?:([^@/:]+)@)?(\[[^\]]+\]|[^:/]+):(.*)$/.exec(url)
  if (ssh) {
    if (ssh[3] === '') throw new TargetUrlError('an SSH target needs a path after the colon, e.g. host:/srv/uploads/')
    return { kind: 'ssh', user: ssh[1], host: ssh[2]!, path: ssh[3]!, destination: withSlash(url) }
  }
  throw new TargetUrlError('a local target must be an absolute path (a relative one would depend on the working directory)')
}
