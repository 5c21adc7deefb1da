/** Why a CLI call failed, with the exit code a CI step can branch on. */
export class ClientError extends Error {
  readonly exitCode: number
  constructor (message: string, exitCode: number) {
    super(message)
    this.exitCode = exitCode
  }
}

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const

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
        throw new ClientError(`cannot reach syncplane at ${base}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, EXIT.unreachable)
      }
      const text = await res.text()
      let parsed: unknown = text
      try {
        parsed = text === '' ? null : JSON.parse(text)
      } catch {
        // Not JSON (e.g. a proxy's error page): keep the text.
      }
      if (res.status >= 400 && res.headers.get('content-type')?.startsWith('application/problem+json')) {
        const p = parsed as { detail?: string; title?: string }
        throw new ClientError(`${res.status} ${p.title ?? ''}: ${p.detail ?? text}`.replace(/ :/, ':'), EXIT.failed)
      }
      return { status: res.status, body: parsed }
    },
  }
}
