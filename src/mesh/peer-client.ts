import http from 'node:http'
import https from 'node:https'
import { text } from 'node:stream/consumers'
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
  /** Closes the connections kept open between calls. */
  close (): void
}

export function createPeerClient (secret: string, self: string): PeerClient {
  const auth = `Bearer ${secret}`
  // node:http, not fetch: fetch's undici and its WebAssembly parser cost
  // each node about 10 MB more (docs/performance.md). One pool per scheme
  // keeps connections open between batches, as fetch did.
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) }
  const call = async (method: 'GET' | 'POST', url: string, signal: AbortSignal, payload?: unknown): Promise<unknown> => {
    const json = payload === undefined ? undefined : JSON.stringify(payload)
    const headers: http.OutgoingHttpHeaders = json === undefined
      ? { authorization: auth }
      : { authorization: auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }
    const target = new URL(url)
    const secure = target.protocol === 'https:'
    const { status, body } = await new Promise<{ status: number, body: string }>((resolve, reject) => {
      const req = (secure ? https : http).request(target, { method, headers, signal, agent: secure ? agents.https : agents.http }, (res) => {
        text(res).then((body) => resolve({ status: res.statusCode ?? 0, body }), reject)
      })
      req.on('error', reject)
      req.end(json)
    })
    if (status < 200 || status > 299) throw new InternalError('SP_PEER_FAILED', `${method} ${url} answered ${status}: ${body.slice(0, 300)}`)
    return body === '' ? null : JSON.parse(body)
  }
  return {
    async apply (api, manifest, signal) {
      const body = await call('POST', `${api}/mesh/v1/apply`, signal, manifest) as { outcomes: EntryOutcome[] }
      if (!Array.isArray(body?.outcomes) || body.outcomes.length !== manifest.entries.length) throw new InternalError('SP_PEER_FAILED', `${api} answered the manifest with ${body?.outcomes?.length ?? 'no'} outcomes for ${manifest.entries.length} entries`)
      return body.outcomes
    },
    async digest (api, signal) {
      return (await call('GET', `${api}/mesh/v1/digest`, signal) as { buckets: string[] }).buckets
    },
    async index (api, buckets, signal) {
      return (await call('POST', `${api}/mesh/v1/index`, signal, { buckets }) as { entries: IndexEntry[] }).entries
    },
    async hello (api, signal) {
      await call('GET', `${api}/mesh/v1/hello?from=${encodeURIComponent(self)}`, signal)
    },
    close () {
      agents.http.destroy()
      agents.https.destroy()
    },
  }
}
