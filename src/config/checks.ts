import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { TargetUrlError } from '../errors.js'
import { parseTargetUrl } from './target-url.js'
import { withoutTrailingSlash } from './normalize.js'
import { targetSection, type Problems } from './problems.js'
import type { Config } from './schema.js'

/** ssh options that syncplane's own handling depends on, so ssh.options may not change them. */
const MANAGED_SSH_OPTIONS: ReadonlySet<string> = new Set(['batchmode', 'controlmaster', 'controlpath', 'controlpersist'])

/**
 * The rules the schema cannot express: the source is a directory, targets
 * have unique names and URLs rsync can push to, options fit the kind of
 * target, files named in the config can be read. Reads the file system,
 * changes nothing.
 */
export function checkConfig (config: Config, problems: Problems): void {
  checkSource(config.source, problems)
  const names = new Set<string>()
  config.targets.forEach((target, i) => {
    if (names.has(target.name)) problems.add(targetSection(i), `${targetSection(i)}.name: "${target.name}" is used by another target`)
    names.add(target.name)
    checkTarget(config, i, problems)
  })
  if (config.watcher.usePolling && config.watcher.backend !== 'chokidar') {
    problems.add('watcher', `watcher.usePolling: polling needs watcher.backend: chokidar (the backend is "${config.watcher.backend}")`)
  }
  if (config.api.token !== undefined && config.api.tokenFile !== undefined) problems.add('api', 'api: set token or tokenFile, not both')
  if (config.retry.maxDelayMs < config.retry.initialDelayMs) {
    problems.add('retry', 'retry.maxDelayMs: must not be smaller than retry.initialDelayMs')
  }
}

function checkSource (source: string, problems: Problems): void {
  if (!path.isAbsolute(source)) {
    problems.add('source', `source: must be an absolute path, got "${source}"`)
    return
  }
  try {
    if (!statSync(source).isDirectory()) problems.add('source', `source: "${source}" is not a directory`)
  } catch {
    problems.add('source', `source: "${source}" does not exist`)
  }
}

function checkTarget (config: Config, i: number, problems: Problems): void {
  const target = config.targets[i]!
  const key = targetSection(i)
  const problem = (line: string): void => problems.add(key, line)
  let url
  try {
    url = parseTargetUrl(target.url)
  } catch (err) {
    if (!(err instanceof TargetUrlError)) throw err
    problem(`${key}.url: ${err.message}`)
    return
  }
  if (url.kind === 'local') {
    const dest = withoutTrailingSlash(path.normalize(url.path))
    if (isInside(dest, config.source) || isInside(config.source, dest)) {
      problem(`${key}.url: a local target must not be inside the source or contain it`)
    }
  }
  if (url.kind !== 'daemon' && (target.passwordFile !== undefined || target.passwordEnv !== undefined)) {
    problem(`${key}: passwordFile and passwordEnv apply only to rsync daemon targets (rsync://…)`)
  }
  if (url.kind !== 'ssh' && target.ssh !== undefined) {
    problem(`${key}.ssh: applies only to SSH targets (host:/path)`)
  }
  if (target.ssh !== undefined) {
    target.ssh.options.forEach((option, j) => {
      const name = /^\s*([A-Za-z]+)/.exec(option)?.[1]?.toLowerCase()
      if (name !== undefined && MANAGED_SSH_OPTIONS.has(name)) {
        problem(`${key}.ssh.options[${j}]: ${option.trim()} is set by syncplane (BatchMode=yes; the Control* options share one connection per target: use ssh.controlPersistSec, 0 to turn sharing off)`)
      }
    })
    for (const field of ['identityFile', 'knownHostsFile'] as const) {
      const file = target.ssh[field]
      if (file === undefined) continue
      try {
        readFileSync(file)
      } catch (err) {
        problem(`${key}.ssh.${field}: cannot read "${file}": ${errorCode(err)}`)
      }
    }
  }
  if (target.passwordFile !== undefined && target.passwordEnv !== undefined) {
    problem(`${key}: set passwordFile or passwordEnv, not both`)
  }
}

function isInside (child: string, parent: string): boolean {
  const rel = path.relative(parent, child)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

/** What an operator can act on: ENOENT, EACCES, … or the message when there is no code. */
export function errorCode (err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message
}
