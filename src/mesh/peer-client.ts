import { InternalError } from '../errors.js'
import type { EntryOutcome, Manifest } from './manifest.js'
import type { IndexEntry } from './repair.js'

/**
 * The peer API, as one node calls another: the manifest after its bytes,
 * and a hello when there is nothing to send. Authenticated with the mesh
 * secret (a bearer token the peers share, never the operators' API token).
 */
export interface PeerClient {
  apply (api: string, manifest: Manifest, signal: AbortSignal): Promise<EntryOutcome[]>
  hello (api: string, signal: AbortSignal): Promise<void>
  /** The peer's per-bucket digests of what it holds (see repair.ts). */
  digest (api: string, signal: AbortSignal): Promise<string[]>
  /** The peer's entries in those buckets. */
  index (api: string, buckets: number[], signal: AbortSignal): Promise<IndexEntry[]>
}

export function createPeerClient (secret: string, self: string): PeerClient {
  const headers = { authorization: `Bearer ${secret}` }
  const call = async (url: string, init: RequestInit): Promise<unknown> => {
    const res = await fetch(url, init)
    const body = await res.text()
    if (!res.ok) throw new InternalError('SP_PEER_FAILED', `${init.method ?? 'GET'} ${url} answered ${res.status}: ${body.slice(0, 300)}`)
    return body === '' ? null : JSON.parse(body)
  }
  return {
    async apply (api, manifest, signal) {
      const body = await call(`${api}/mesh/v1/apply`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify(manifest),
        signal,
      }) as { outcomes: EntryOutcome[] }
      if (!Array.isArray(body?.outcomes) || body.outcomes.length !== manifest.entries.length) throw new InternalError('SP_PEER_FAILED', `${api} answered the manifest with ${body?.outcomes?.length ?? 'no'} outcomes for ${manifest.entries.length} entries`)
      return body.outcomes
    },
    async digest (api, signal) {
      return (await call(`${api}/mesh/v1/digest`, { method: 'GET', headers, signal }) as { buckets: string[] }).buckets
    },
    async index (api, buckets, signal) {
      return (await call(`${api}/mesh/v1/index`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ buckets }),
        signal,
      }) as { entries: IndexEntry[] }).entries
    },
    async hello (api, signal) {
      await call(`${api}/mesh/v1/hello?from=${encodeURIComponent(self)}`, { method: 'GET', headers, signal })
    },
  }
}
