import http from 'node:http'

/**
 * A separate process that requests each URL at a steady rate (open loop: a
 * slow answer does not delay the next request) until SIGTERM, then prints
 * every latency in ms as JSON. Being its own process, its own work does not
 * sit on the service's event loop or the bench's.
 *
 * Usage: http-probe.ts RATE_PER_SECOND URL... (a `Bearer TOKEN` in PROBE_TOKEN is sent along)
 */
const [rateArg, ...urls] = process.argv.slice(2)
const rate = Number(rateArg)
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
const headers: Record<string, string> = process.env.PROBE_TOKEN ? { authorization: `Bearer ${process.env.PROBE_TOKEN}` } : {}
const latencies: Record<string, number[]> = Object.fromEntries(urls.map((u) => [u, []]))
const errors: Record<string, number> = Object.fromEntries(urls.map((u) => [u, 0]))

const fire = (url: string): void => {
  const started = performance.now()
  const req = http.get(url, { agent, headers }, (res) => {
    res.resume()
    res.on('end', () => {
      if (res.statusCode === 200 || res.statusCode === 503) latencies[url]!.push(performance.now() - started)
      else errors[url]!++
    })
  })
  req.on('error', () => { errors[url]!++ })
}

const timers = urls.map((url) => setInterval(() => fire(url), 1000 / rate))
process.on('SIGTERM', () => {
  for (const t of timers) clearInterval(t)
  // Let requests in flight finish; one second is far beyond any healthy answer.
  setTimeout(() => {
    process.stdout.write(JSON.stringify({ latencies, errors }))
    process.exit(0)
  }, 1_000)
})
process.stderr.write('probing\n')
