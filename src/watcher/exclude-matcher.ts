/**
 * rsync's exclude-pattern semantics (man rsync, "PATTERN MATCHING RULES"),
 * so the watcher ignores exactly what every rsync run excludes via
 * `--exclude`. Kept conservative: a path the watcher lets through that rsync
 * then excludes costs one no-op run; the reverse would lose a change.
 */
export type ExcludeMatcher = (relPath: string, isDir: boolean | undefined) => boolean

interface CompiledRule {
  regex: RegExp
  dirOnly: boolean
}

export function compileExcludes (patterns: readonly string[]): ExcludeMatcher {
  const rules = patterns.map(compileRule)
  if (rules.length === 0) return () => false
  const matchOne = (rel: string, isDir: boolean | undefined): boolean =>
    rules.some((r) => (r.dirOnly ? isDir === true : true) && r.regex.test(rel))
  return (relPath, isDir) => {
    // rsync never descends into an excluded directory, so an excluded
    // ancestor excludes everything below it.
    let slash = relPath.indexOf('/')
    while (slash !== -1) {
      if (matchOne(relPath.slice(0, slash), true)) return true
      slash = relPath.indexOf('/', slash + 1)
    }
    return matchOne(relPath, isDir)
  }
}

function compileRule (pattern: string): CompiledRule {
  let p = pattern
  let dirOnly = false
  let subtree = false
  if (p.endsWith('/***')) {
    subtree = true
    p = p.slice(0, -4)
  } else if (p.endsWith('/') && p.length > 1) {
    dirOnly = true
    p = p.slice(0, -1)
  }
  const anchored = p.startsWith('/')
  if (anchored) p = p.slice(1)
  // An unanchored pattern matches at any directory boundary: for a plain
  // name that is the last component, for one with a slash a trailing subpath.
  const prefix = anchored ? '^' : '(?:^|/)'
  const body = globToRegex(p)
  const suffix = subtree ? '(?:/.*)?$' : '$'
  return { regex: new RegExp(`${prefix}${body}${suffix}`, 's'), dirOnly }
}

function globToRegex (glob: string): string {
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '\\' && i + 1 < glob.length) {
      out += escapeRegex(glob[++i]!)
    } else if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*'
        i++
      } else {
        out += '[^/]*'
      }
    } else if (c === '?') {
      out += '[^/]'
    } else if (c === '[') {
      const close = glob.indexOf(']', i + 2)
      if (close === -1) {
        out += '\\['
      } else {
        let cls = glob.slice(i + 1, close)
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`
        out += `[${cls.replace(/\\/g, '\\\\')}]`
        i = close
      }
    } else {
      out += escapeRegex(c)
    }
  }
  return out
}

function escapeRegex (c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c
}

const RSYNC_TEMP = /^\..+\.([A-Za-z0-9]{6})$/

/**
 * rsync writes `.<name>.XXXXXX` beside the file it receives (mkstemp: six
 * random letters and digits); never replicate those. A suffix of six
 * lowercase letters is far likelier a real dotfile (`.env.backup`) than a
 * temp name (a 0.5% chance), so those are kept: a temp file let through costs
 * one no-op run, a real file dropped would wait for the next full mirror.
 */
export function isRsyncTempName (basename: string): boolean {
  const m = RSYNC_TEMP.exec(basename)
  return m !== null && !/^[a-z]{6}$/.test(m[1]!)
}
