/**
 * Every error the service raises on purpose, with a stable code and the HTTP
 * status it maps to. Codes are part of the API contract: never reuse or
 * rename one; add new ones at the end.
 */
export const ErrorCodes = {
  VALIDATION_FAILED: { status: 400, title: 'Request validation failed' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  JOB_NOT_FOUND: { status: 404, title: 'Job not found' },
  TARGET_NOT_FOUND: { status: 404, title: 'Unknown target' },
  ENGINE_CLOSED: { status: 503, title: 'Service is shutting down' },
  BAD_REQUEST: { status: 400, title: 'Bad request' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  INTERNAL: { status: 500, title: 'Internal server error' },
  UNAUTHORIZED: { status: 401, title: 'Unauthorized' },
  WATCH_PAUSED: { status: 409, title: 'Watching is paused' },
  URI_TOO_LONG: { status: 414, title: 'URI too long' },
  SOURCE_UNAVAILABLE: { status: 409, title: 'The source is not available' },
  NO_DELETES_HELD: { status: 409, title: 'The target holds no deletions' },
  DELETES_CHANGED: { status: 409, title: 'The held deletions changed' },
  DATABASE_UNAVAILABLE: { status: 503, title: 'Database unavailable' },
} as const

export type ErrorCode = keyof typeof ErrorCodes

export class SyncplaneError extends Error {
  readonly code: ErrorCode
  readonly status: number

  constructor (code: ErrorCode, message: string) {
    super(message)
    this.name = 'SyncplaneError'
    this.code = code
    this.status = ErrorCodes[code].status
  }
}

export function isSyncplaneError (err: unknown): err is SyncplaneError {
  return err instanceof SyncplaneError
}
