import { writeFileSync } from 'node:fs'
import { renderOpenApi, OPENAPI_FILE } from '../src/openapi.js'
import { OPENAPI_TYPES_FILE, renderOpenApiTypes } from './openapi-types.js'

const document = await renderOpenApi()
writeFileSync(OPENAPI_FILE, document)
process.stdout.write(`wrote ${OPENAPI_FILE}\n`)
writeFileSync(OPENAPI_TYPES_FILE, await renderOpenApiTypes(document))
process.stdout.write(`wrote ${OPENAPI_TYPES_FILE}\n`)
