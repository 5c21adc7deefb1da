import type { ErrorCode } from './errors.js'

/**
 * What to do next after an error, by code, in the words of whoever reads
 * it: an API caller is told which request to send, a CLI user which command
 * to run. The layers that raise errors (the engine, the stores) say only
 * what went wrong, so the same error reads right over HTTP and in a
 * terminal.
 */
const HINTS: Partial<Record<ErrorCode, { http: string, cli: string }>> = {
  WATCH_PAUSED: { http: 'POST /v1/watch/resume first', cli: 'run "syncplane resume" first' },
}

/** The detail an API caller reads: the message, and the request to send next. */
export function withHttpHint (code: ErrorCode, detail: string): string {
  const hint = HINTS[code]?.http
  return hint === undefined ? detail : `${detail}; ${hint}`
}

/** The detail a CLI user reads: the API's hint, if the answer carries one, becomes the command to run. */
export function withCliHint (code: string | undefined, detail: string): string {
  const hint = HINTS[code as ErrorCode]
  if (hint === undefined) return detail
  const bare = detail.endsWith(`; ${hint.http}`) ? detail.slice(0, -(hint.http.length + 2)) : detail
  return `${bare}; ${hint.cli}`
}
