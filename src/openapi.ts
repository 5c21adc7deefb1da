import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { buildApp } from './app.js'
import type { AppServices } from './http/services.js'
import { InternalError } from './errors.js'
import { packageFile } from './package-dir.js'

export const OPENAPI_FILE = fileURLToPath(packageFile('openapi/openapi.json'))

const unavailable = (): never => {
  throw new InternalError('SP_OPENAPI_RENDERING', 'not available while rendering the OpenAPI document')
}

/** The document as committed in openapi/: built from the routes, no service behind them. */
export async function renderOpenApi (): Promise<string> {
  const services: AppServices = {
    about: { version: '0.0.0', startedAt: 0 },
    engine: { status: unavailable, pause: unavailable, resume: unavailable, requestFullSync: unavailable, waitForFullSync: unavailable, previewFullSync: unavailable, confirmDeletes: unavailable, flush: unavailable, pauseTarget: unavailable, resumeTarget: unavailable, pendingOf: unavailable, cancelJob: unavailable },
    jobs: { get: unavailable, list: unavailable, paths: unavailable },
    readiness: unavailable,
    database: unavailable,
    metrics: { contentType: 'text/plain', render: unavailable, observeRequest: () => undefined },
    events: { since: unavailable, lastId: unavailable, listen: unavailable },
  }
  const app = await buildApp({ services, logger: pino({ level: 'silent' }) })
  await app.ready()
  const text = `${JSON.stringify(app.swagger(), null, 2)}\n`
  await app.close()
  return text
}
