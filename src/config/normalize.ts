import path from 'node:path'
import type { Config } from './schema.js'
import type { ValidatedConfig } from './validate.js'

/**
 * One spelling for everything that can be written two ways: `source` as a
 * path or a mapping becomes `source` plus `sourceMarker`, and relative file
 * paths resolve against the directory of the configuration file. No I/O and
 * no judgement: a relative source stays as written, for the checks to name.
 */
export function normalize (validated: ValidatedConfig, baseDir: string): Config {
  const { source, ...rest } = validated
  const [root, marker] = typeof source === 'string' ? [source, null] : [source.path, source.marker ?? null]
  return {
    ...rest,
    source: path.isAbsolute(root) ? withoutTrailingSlash(path.normalize(root)) : root,
    sourceMarker: marker,
    database: path.resolve(baseDir, rest.database),
    targets: rest.targets.map((target) => target.ssh === undefined
      ? target
      : {
          ...target,
          ssh: {
            ...target.ssh,
            ...(target.ssh.identityFile === undefined ? {} : { identityFile: path.resolve(baseDir, target.ssh.identityFile) }),
            ...(target.ssh.knownHostsFile === undefined ? {} : { knownHostsFile: path.resolve(baseDir, target.ssh.knownHostsFile) }),
          },
        }),
  }
}

/** `/srv/data/` → `/srv/data`, but `/` stays `/`. */
export function withoutTrailingSlash (p: string): string {
  return p.replace(/(.)\/$/, '$1')
}
