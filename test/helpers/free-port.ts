import { randomInt } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { inspect } from 'node:util'

/**
 * Returns a TCP port that was free on 127.0.0.1 a moment ago, below the
 * kernel's range of ephemeral ports where there is room: a port from that
 * range may be taken meanwhile as the source port of any outgoing
 * connection (a started node calling its peers took a port chosen for the
 * next node's API: EADDRINUSE in CI). Other servers cannot take it unseen
 * either way: each binds the port it was given.
 *
 * There is an unavoidable race between closing our listener and the real
 * server binding the port, so the server helpers start through
 * startOnFreePort, which tries a new port when the bind fails.
 */
export async function getFreePort (): Promise<number> {
  const low = ephemeralLow()
  for (let attempt = 0; low - LISTEN_FLOOR > 1_000 && attempt < 20; attempt += 1) {
    const port = await bindable(randomInt(LISTEN_FLOOR, low))
    if (port !== null) return port
  }
  return (await bindable(0))!
}

/** Ports below this are left alone (well-known and registered services, local daemons). */
const LISTEN_FLOOR = 20_000

/** The first port of the kernel's ephemeral range (Linux's default where it cannot be read). */
function ephemeralLow (): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    if (Number.isInteger(low)) return low
  } catch {}
  return 32_768
}

/** Binds `port` (0: any) on 127.0.0.1 and lets it go; the port, or null if it was taken. */
async function bindable (port: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' && port !== 0 ? resolve(null) : reject(error)))
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const address = server.address()
      if (address === null || typeof address === 'string') {
        server.close()
        reject(new Error(`getFreePort: unexpected address ${inspect(address)}`))
        return
      }
      server.close((error) => (error ? reject(error) : resolve(address.port)))
    })
  })
}

/** A test server that did not come up; `addressInUse`: another process bound its port first. */
export class ServerStartError extends Error {
  constructor (
    message: string,
    readonly addressInUse: boolean
  ) {
    super(message)
    this.name = 'ServerStartError'
  }
}

/**
 * Launches a server on a port that was free a moment ago. getFreePort
 * cannot reserve the port, and another process may bind it before the
 * server does: only that case (a ServerStartError with addressInUse) is
 * worth another port, `attempts` times in all.
 */
export async function startOnFreePort<T> (launch: (port: number) => Promise<T>, attempts = 5): Promise<{ port: number, server: T }> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await getFreePort()
    try {
      return { port, server: await launch(port) }
    } catch (error) {
      if (!(error instanceof ServerStartError && error.addressInUse) || attempt >= attempts) throw error
    }
  }
}
