import { createServer } from 'node:net'
import { inspect } from 'node:util'

/**
 * Returns a TCP port that was free on 127.0.0.1 a moment ago.
 *
 * There is an unavoidable race between closing our listener and the real
 * server binding the port, so the server helpers start through
 * startOnFreePort, which tries a new port when the bind fails.
 */
export async function getFreePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
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
