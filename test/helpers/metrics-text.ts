import assert from 'node:assert/strict'

/** Parses the Prometheus text format into `name{labels}` → value. */
export function parseMetrics (text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line)
    assert.ok(m, `not a metric line: ${line}`)
    out.set(m[1]!, Number(m[2]))
  }
  return out
}

/**
 * Every series name a query may use against this exposition: each declared
 * metric, and a histogram's _bucket, _sum and _count even before it has a
 * sample (one with labels shows only its HELP and TYPE until then).
 */
export function seriesNames (text: string): Set<string> {
  const names = new Set<string>()
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m as unknown as [string, string, string]
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix)
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix)
    else names.add(name)
  }
  return names
}
