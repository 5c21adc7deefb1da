import type { Config } from '../config/schema.js'
import { parseTargetUrl, type TargetUrl } from '../config/target-url.js'
import type { SshSettings } from '../rsync/args.js'

export interface ResolvedTarget {
  name: string
  /** As configured; holds no secret (passwords live apart). */
  url: string
  parsed: TargetUrl
  ssh: SshSettings | undefined
  password: string | undefined
}

export function resolveTargets (config: Readonly<Config>, secrets: ReadonlyMap<string, string>): ResolvedTarget[] {
  return config.targets.map((t) => ({
    name: t.name,
    url: t.url,
    parsed: parseTargetUrl(t.url),
    ssh: t.ssh,
    password: secrets.get(t.name),
  }))
}
