import { result, type CheckResult } from './result.js'

/**
 * A peer's API answers its liveness probe (open, no secret sent). At a
 * mesh's first boot the peers start together, so one not up yet is usual:
 * the service keeps retrying it.
 */
export async function checkPeerApi (peer: { name: string, api: string }, timeoutSec: number): Promise<CheckResult> {
  const url = `${peer.api}/healthz`
  const { ok, fail } = result('peer-api', `${peer.name} (${peer.api})`)
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutSec * 1000) })
    await res.body?.cancel()
    return res.ok ? ok(`GET ${url}: ${res.status}`) : fail(`GET ${url}: ${res.status} ${res.statusText}`)
  } catch (err) {
    const e = err as Error & { cause?: Error }
    if (e.name === 'TimeoutError') return fail(`GET ${url}: no answer within ${timeoutSec} s`)
    return fail(`GET ${url}: ${e.cause?.message ?? e.message}`)
  }
}
