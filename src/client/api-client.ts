import { ClientError, EXIT } from '../errors.js'
import { withCliHint } from '../error-hints.js'

export { ClientError, EXIT }

export interface ApiResponse { status: number; body: any }

export type ApiClient = ReturnType<typeof createApiClient>

export function createApiClient (opts: { url: string; token?: string | undefined; fetchImpl?: typeof fetch }) {
  const base = opts.url.replace(/\/+$/, '')
  const doFetch = opts.fetchImpl ?? fetch
  return {
    async call (method: 'GET' | 'POST', route: string, body?: unknown): Promise<ApiResponse> {
      const headers: Record<string, string> = { accept: 'application/json' }
      if (opts.token) headers.authorization = `Bearer ${opts.token}`
      if (body !== undefined) headers['content-type'] = 'application/json'
      let res: Response
      try {
        res = await doFetch(base + route, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause
        throw new ClientError('SP_CLI_UNREACHABLE', `cannot reach syncplane at ${base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`)
      }
      const text = await res.text()
      let parsed: unknown = text
      try {
        parsed = text === '' ? null : JSON.parse(text)
      } catch {
        // Not JSON (e.g. a proxy's error page): keep the text.
      }
      if (res.status >= 400 && res.headers.get('content-type')?.startsWith('application/problem+json')) {
        const p = parsed as { detail?: string; title?: string; code?: string }
        throw new ClientError('SP_CLI_FAILED', `${res.status} ${p.title ?? ''}: ${p.detail == null ? text : withCliHint(p.code, p.detail)}`.replace(/ :/, ':'), p.code)
      }
      return { status: res.status, body: parsed }
    },
  }
}
