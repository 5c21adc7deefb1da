import Database from 'better-sqlite3'
import { Writable } from 'node:stream'
import { pino, type Logger } from 'pino'

export const diskFull = (): Error => new Database.SqliteError('database or disk is full', 'SQLITE_FULL')
export const ioError = (): Error => new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_READ')

/**
 * The store as it is, except that the named methods throw `state.error`
 * while it is set: a database that fills up and gets room again.
 */
export function failingStore<T extends object> (store: T, methods: ReadonlyArray<keyof T>) {
  const state: { error: Error | null; calls: number } = { error: null, calls: 0 }
  const wrapped = new Proxy(store, {
    get (target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown
      if (typeof value !== 'function' || !methods.includes(key as keyof T)) return value
      return (...args: unknown[]) => {
        state.calls++
        if (state.error !== null) throw state.error
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { store: wrapped, state }
}

/** A pino logger whose lines land in an array, parsed. */
export function capturingLogger (): { logger: Logger; lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = []
  const sink = new Writable({
    write (chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, any>)
      done()
    },
  })
  return { logger: pino({ level: 'debug' }, sink), lines }
}
