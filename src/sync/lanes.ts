import type { ResolvedTarget } from './targets.js'

/**
 * A target runs on two lanes: the primary one (one run at a time, an
 * incremental batch or a full mirror) and, while a mirror runs, one
 * incremental run alongside it.
 */
export type Lane = 'primary' | 'alongsideMirror'

/** The target as a run on `lane` sees it: with that lane's SSH connection. */
export function onLane (target: ResolvedTarget, lane: Lane): ResolvedTarget {
  if (target.sshLanes === undefined) return target
  return { ...target, ssh: { options: [], ...target.ssh, control: target.sshLanes[lane] } }
}
