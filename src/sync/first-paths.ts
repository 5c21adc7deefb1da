/**
 * The `count` smallest of `paths` greater than `after`, sorted: one page of
 * a backlog without sorting all of it. A max-heap of `count` entries, so a
 * page of 100 out of a million pending paths costs one pass (the engine's
 * thread serves the API too: sorting a million paths held it for seconds).
 */
export function firstPaths (paths: Iterable<string>, after: string | undefined, count: number): string[] {
  const heap: string[] = []
  for (const p of paths) {
    if (after !== undefined && p <= after) continue
    if (heap.length < count) {
      heap.push(p)
      up(heap, heap.length - 1)
    } else if (count > 0 && p < heap[0]!) {
      heap[0] = p
      down(heap, 0)
    }
  }
  return heap.sort()
}

function up (heap: string[], i: number): void {
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (heap[parent]! >= heap[i]!) return
    swap(heap, i, parent)
    i = parent
  }
}

function down (heap: string[], i: number): void {
  for (;;) {
    const l = 2 * i + 1
    const r = l + 1
    let top = i
    if (l < heap.length && heap[l]! > heap[top]!) top = l
    if (r < heap.length && heap[r]! > heap[top]!) top = r
    if (top === i) return
    swap(heap, i, top)
    i = top
  }
}

function swap (heap: string[], a: number, b: number): void {
  const t = heap[a]!
  heap[a] = heap[b]!
  heap[b] = t
}
