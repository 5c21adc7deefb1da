import { test } from 'node:test'
import assert from 'node:assert/strict'
import { firstPaths } from '../../src/sync/first-paths.js'

const reference = (paths: string[], after: string | undefined, count: number): string[] =>
  paths.filter((p) => after === undefined || p > after).sort().slice(0, count)

test('firstPaths: the smallest paths after the cursor, sorted, as a full sort would page them', () => {
  let seed = 7
  const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31
  const paths = Array.from({ length: 5_000 }, (_, i) => `d${Math.floor(random() * 50)}/f ${i} ${random().toString(36).slice(2, 6)}`)
  for (const order of [paths, [...paths].sort(), [...paths].sort().reverse()]) {
    for (const [after, count] of [[undefined, 100], ['d2', 100], ['d49/z', 10], [undefined, 6_000], ['d3', 0]] as const) {
      assert.deepEqual(firstPaths(order, after, count), reference(order, after, count), `after ${after}, ${count}`)
    }
  }
})
