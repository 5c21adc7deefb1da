import { fileURLToPath } from 'node:url'
import openapiTS, { astToString } from 'openapi-typescript'

/** The TypeScript types of openapi/openapi.json, committed beside it. */
export const OPENAPI_TYPES_FILE = fileURLToPath(new URL('../openapi/openapi.d.ts', import.meta.url))

/**
 * openapi-typescript's rendering of the document: `paths`, `components` and
 * `operations`, one type per component schema. A dev dependency, so this
 * lives in scripts/, not in src/ (which ships without one).
 */
export async function renderOpenApiTypes (documentText: string): Promise<string> {
  const ast = await openapiTS(JSON.parse(documentText) as Parameters<typeof openapiTS>[0], { silent: true })
  return `/** Generated from openapi.json by openapi-typescript (npm run openapi); do not edit. */\n\n${astToString(ast)}`
}
