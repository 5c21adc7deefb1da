import { realpathSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHarness } from './harness.js'
import { renderReport, type BenchResults } from './report.js'
import { runBurstLatency } from './scenarios/burst-latency.js'
import { runControlPlane } from './scenarios/control-plane.js'
import { runJobHistory } from './scenarios/job-history.js'
import { runMesh } from './scenarios/mesh.js'
import { runScale } from './scenarios/scale.js'
import { runSustained } from './scenarios/sustained.js'
import { readSettings, type BenchSettings } from './settings.js'
import { contenders } from './systems.js'

/**
 * `npm run bench`: syncplane, lsyncd, the seed's loop and the rsync floor on
 * the same workloads (see docs/performance.md), one after another against
 * one rsync daemon; then syncplane's mesh, Syncthing and Unison on the mesh
 * workloads, each on nodes of its own; a Markdown report on stdout, the raw
 * figures as JSON in bench/results/. Knobs: bench/settings.ts.
 */
export async function runBench (settings: BenchSettings): Promise<BenchResults> {
  const systems = contenders(settings.systems)
  const harness = await createHarness(settings)
  const results: BenchResults = { fs: harness.fs }
  try {
    if (settings.only.has('burst')) results.burst = await runBurstLatency(harness, systems)
    if (settings.only.has('sustained')) results.sustained = await runSustained(harness, systems)
    if (settings.only.has('scale')) results.scale = await runScale(harness, systems)
    if (settings.only.has('control')) {
      results.control = await runControlPlane(harness)
      results.jobHistory = await runJobHistory(harness)
    }
    if (settings.only.has('mesh')) results.mesh = await runMesh(harness)
  } finally {
    await harness.close()
  }
  await harness.remove()
  return results
}

/** bench/results/bench-<time>.json, in the shape earlier runs were saved in. */
async function saveResults (settings: BenchSettings, results: BenchResults): Promise<void> {
  const dir = fileURLToPath(new URL('./results/', import.meta.url))
  await mkdir(dir, { recursive: true })
  const file = path.join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  await writeFile(file, JSON.stringify({
    smoke: settings.smoke,
    runs: settings.runs,
    fs: results.fs,
    floorS: results.burst?.floorS ?? NaN,
    rows: results.burst?.rows ?? [],
    raw: results.burst?.raw ?? {},
    sustained: results.sustained ?? [],
    scale: results.scale ?? [],
    control: results.control ?? [],
    jobTimings: results.jobHistory ?? [],
    mesh: results.mesh ?? null,
  }, null, 2))
}

async function main (): Promise<void> {
  const settings = readSettings()
  const results = await runBench(settings)
  process.stdout.write(renderReport(settings, results))
  await saveResults(settings, results)
}

// Runs when started as a program (npx tsx bench/run.ts), not when imported.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
