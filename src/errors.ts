/**
 * Every error syncplane raises on purpose, each with a stable code. Codes are
 * a contract (problem bodies, log lines, what the CLI keys its hints on):
 * never reuse or rename one; add new ones at the end. This module imports
 * nothing, so every layer (and the CLI, which must start light) can use it.
 *
 * Errors that reach HTTP carry the status and title they answer with. The
 * others (configuration, start-up, worker threads, the CLI) have a code and
 * a title only; their codes start with SP_, so none can be mistaken for a
 * code the API answers with, and every class for them extends
 * InternalError. Hints (what to do next) are not here: they depend on who
 * reads the error, so the HTTP error handler and the CLI add them by code
 * (error-hints.ts).
 */
export const ErrorCodes = {
  VALIDATION_FAILED: { status: 400, title: 'Request validation failed' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  JOB_NOT_FOUND: { status: 404, title: 'Job not found' },
  TARGET_NOT_FOUND: { status: 404, title: 'Unknown target' },
  JOB_NOT_RUNNING: { status: 409, title: 'The job is not running' },
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
  MESH_NOT_CONFIGURED: { status: 404, title: 'This node is not part of a mesh' },
  UNKNOWN_PEER: { status: 403, title: 'Not a peer of this mesh' },
} as const

/** A code the API answers with (problem details `code`). */
export type ErrorCode = keyof typeof ErrorCodes

/** The CLI's exit codes: what a CI step branches on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const

/** Errors that never become an HTTP answer. */
export const InternalErrorCodes = {
  SP_CONFIG_INVALID: { title: 'The configuration is invalid' },
  SP_TARGET_URL_INVALID: { title: 'A target URL is not one rsync can push to' },
  SP_RSYNC_UNAVAILABLE: { title: 'rsync cannot be run, or is too old' },
  SP_MIGRATIONS_MISNUMBERED: { title: 'The migration files skip a number' },
  SP_SCHEMA_TOO_NEW: { title: 'A newer syncplane wrote this database' },
  SP_WATCHER_THREAD_EXITED: { title: 'The watcher thread exited before it was watching' },
  SP_WATCHER_CLOSED: { title: 'The watcher is closed' },
  SP_LOOKUP_THREAD_EXITED: { title: 'The lookup thread exited' },
  SP_LOOKUP_THREAD_ANSWER: { title: 'The lookup thread answered with something else' },
  SP_SOURCE_CHANGED: { title: 'The source cannot change while running' },
  SP_CLI_FAILED: { title: 'The operation failed', exit: EXIT.failed },
  SP_CLI_USAGE: { title: 'The command line is invalid', exit: EXIT.usage },
  SP_CLI_UNREACHABLE: { title: 'The service cannot be reached', exit: EXIT.unreachable },
  SP_WATCHER_START_FAILED: { title: 'The watcher could not watch the source' },
  SP_WATCHER_NOT_RUNNING: { title: 'The watcher thread is not running' },
  SP_WATCHER_RESTARTING: { title: 'The watcher thread is already restarting' },
  SP_SOURCE_ROOT_GONE: { title: 'The watched source directory was removed or moved away' },
  SP_NON_ERROR_THROWN: { title: 'A value that is no Error was thrown' },
  SP_OPENAPI_RENDERING: { title: 'No service answers while the OpenAPI document is rendered' },
  SP_PEER_FAILED: { title: 'A mesh peer did not take a batch' },
} as const

export type InternalErrorCode = keyof typeof InternalErrorCodes

/** An error that reaches HTTP: the error handler answers it with its code's status and title. */
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

/**
 * An error that never becomes an HTTP answer: it stops the start, ends a
 * CLI command, or is logged (`err.code` in the line). The classes below
 * add what their callers need to branch on.
 */
export class InternalError extends Error {
  readonly code: InternalErrorCode
  /** The system's code (ENOENT, EACCES, …) of the failure behind it, where there was one. */
  readonly systemCode: string | undefined

  constructor (code: InternalErrorCode, message: string, systemCode?: string) {
    super(message)
    this.name = 'InternalError'
    this.code = code
    this.systemCode = systemCode
  }
}

/** The configuration cannot be used; `problems` are one line each, naming the key. */
export class ConfigError extends InternalError {
  declare readonly code: 'SP_CONFIG_INVALID'
  readonly problems: string[]

  constructor (source: string, problems: string[]) {
    super('SP_CONFIG_INVALID', `invalid configuration in ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

export class TargetUrlError extends InternalError {
  declare readonly code: 'SP_TARGET_URL_INVALID'

  constructor (message: string) {
    super('SP_TARGET_URL_INVALID', message)
    this.name = 'TargetUrlError'
  }
}

export class RsyncUnavailableError extends InternalError {
  declare readonly code: 'SP_RSYNC_UNAVAILABLE'

  constructor (message: string) {
    super('SP_RSYNC_UNAVAILABLE', message)
    this.name = 'RsyncUnavailableError'
  }
}

type ClientErrorCode = 'SP_CLI_FAILED' | 'SP_CLI_USAGE' | 'SP_CLI_UNREACHABLE'

/** Why a CLI call failed, with the exit code a CI step can branch on. */
export class ClientError extends InternalError {
  declare readonly code: ClientErrorCode
  readonly exitCode: number
  /** The problem code the API answered with, when it answered with one. */
  readonly apiCode: string | undefined

  constructor (code: ClientErrorCode, message: string, apiCode?: string) {
    super(code, message)
    this.name = 'ClientError'
    this.exitCode = InternalErrorCodes[code].exit
    this.apiCode = apiCode
  }
}

/** What is logged for a thrown value that is no Error (`described`, e.g. by util.inspect), so the line still has a message and a stack. */
export class NonError extends InternalError {
  constructor (described: string) {
    super('SP_NON_ERROR_THROWN', `a non-error was thrown: ${described}`)
    this.name = 'NonError'
  }
}
