import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

/*
 * dist/ is one minified bundle: the service and its two thread entries at the
 * top of dist/, the code they share in chunks beside them. Every node of a
 * mesh loads it, so its size is memory: 1,012 ES modules (683 of them
 * typebox's) compiled one by one kept 11 MB more per idle process than the
 * bundle does (docs/performance.md). Types are checked by `npm run typecheck`.
 *
 * Left outside: the native addons. Swagger UI's files are read from the
 * swagger-ui-dist package when asked for (src/http/routes/docs.ts).
 */
const DIST = new URL('../dist/', import.meta.url)

await rm(DIST, { recursive: true, force: true })
await build({
  entryPoints: {
    cli: 'src/cli.ts',
    'parcel-thread-entry': 'src/watcher/parcel-thread-entry.ts',
    'lookup-thread-entry': 'src/sync/lookup-thread-entry.ts',
  },
  absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
  outdir: 'dist',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  minify: true,
  // Read only when asked: node --enable-source-maps (docs/operations.md).
  sourcemap: 'linked',
  external: ['better-sqlite3', '@parcel/watcher'],
  // The CommonJS packages inside call require() for node's own modules.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
})
