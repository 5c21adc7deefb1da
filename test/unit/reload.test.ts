import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { pino, type LevelWithSilent } from 'pino'
import { ConfigError, type LoadedConfig } from '../../src/config/load.js'
import { createReloader, type ReloaderDeps } from '../../src/reload.js'
import type { ReconfigureOutcome } from '../../src/services.js'

const NO_CHANGES = { keys: [], restartOnly: [], targets: { added: [], removed: [], changed: [] } }

function harness (deps: Partial<ReloaderDeps>) {
  const lines: Array<Record<string, any>> = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')))
      done()
    },
  })
  const levels: LevelWithSilent[] = []
  const applied: LoadedConfig[] = []
  const reload = createReloader({
    load: undefined,
    reconfigure: (next) => {
      applied.push(next)
      return { applied: true, changes: NO_CHANGES, engine: { added: [], removed: [], changed: [], mirrorOwed: [] } }
    },
    setLogLevel: (level) => levels.push(level),
    logger: pino(stream),
    ...deps,
  })
  return { reload, lines, levels, applied }
}

const loaded = (logLevel: LevelWithSilent) => ({ config: { logLevel }, secrets: new Map(), apiToken: undefined }) as unknown as LoadedConfig

test('without a config file (the embedded demo) a reload says there is nothing to reload', () => {
  const { reload, lines, applied } = harness({})
  reload()
  assert.equal(lines.length, 1)
  assert.match(lines[0]!.msg, /nothing to reload.*embedded demo/)
  assert.equal(applied.length, 0)
})

test('a file that does not load is refused with its problems in one line, and nothing is applied', () => {
  const { reload, lines, applied, levels } = harness({ load: () => { throw new ConfigError('f.yaml', ['targets[1].url: unsupported URL scheme "ftp://"']) } })
  reload()
  assert.equal(lines.length, 1)
  assert.equal(lines[0]!.level, 50)
  assert.match(lines[0]!.msg, /reload refused.*targets\[1\]\.url: unsupported URL scheme/)
  assert.deepEqual(applied, [])
  assert.deepEqual(levels, [])
})

test('a file changing a restart-only key is refused naming the key, and the log level stays', () => {
  const refused: ReconfigureOutcome = { applied: false, changes: { ...NO_CHANGES, keys: ['source', 'logLevel'], restartOnly: ['source'] } }
  const { reload, lines, levels } = harness({ load: () => loaded('debug'), reconfigure: () => refused })
  reload()
  assert.match(lines[0]!.msg, /reload refused, nothing applied: source cannot change while running/)
  assert.deepEqual(levels, [])
})

test('an applied file sets the log level and logs what changed', () => {
  const { reload, lines, levels, applied } = harness({ load: () => loaded('warn') })
  reload()
  assert.equal(applied.length, 1)
  assert.deepEqual(levels, ['warn'])
  assert.match(lines[0]!.msg, /configuration reloaded/)
})
