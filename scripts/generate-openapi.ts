import { writeFileSync } from 'node:fs'
import { renderOpenApi, OPENAPI_FILE } from '../src/openapi.js'

writeFileSync(OPENAPI_FILE, await renderOpenApi())
process.stdout.write(`wrote ${OPENAPI_FILE}\n`)
