import http from 'node:http'

/**
 * An HTTP server that does nothing else, probed beside syncplane during the
 * burst: its latency is what the machine's CPU scheduling alone costs a
 * probe, the floor for any service on the same cores.
 *
 * Usage: idle-server.ts (prints the port it listens on)
 */
const server = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end('{"status":"ok"}')
})
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`${typeof address === 'object' && address !== null ? address.port : ''}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
