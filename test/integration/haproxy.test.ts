import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import path from 'node:path'
import { getFreePort } from '../helpers/free-port.js'
import { waitFor } from '../helpers/wait-for.js'
import { spawnManaged } from '../helpers/managed-process.js'
import { startSyncplaneTo } from '../helpers/syncplane.js'

const HAPROXY = '/usr/sbin/haproxy'
const EXAMPLE = new URL('../../examples/haproxy/haproxy.cfg', import.meta.url)

test('HAProxy with the example config marks a server up when syncplane is ready and down when /readyz fails', {
  skip: existsSync(HAPROXY) ? undefined : 'haproxy is not installed (apt-get install haproxy)',
}, async (t) => {
  const { tmp, target, sp } = await startSyncplaneTo(t, 'daemon', { name: 'web2', config: { readiness: { maxLagSec: 1 }, retry: { initialDelayMs: 100, maxDelayMs: 500 } } })
  await sp.app.listen({ host: '127.0.0.1', port: 0 })
  const spPort = (sp.app.server.address() as { port: number }).port
  // The upload application HAProxy balances; syncplane is only its health check.
  const upload = createServer((_req, res) => res.end('upload app'))
  await new Promise<void>((resolve) => upload.listen(0, '127.0.0.1', resolve))
  const appPort = (upload.address() as { port: number }).port
  const [frontPort, statsPort] = [await getFreePort(), await getFreePort()]

  // The shipped example, pointed at this machine and checking quickly.
  const config = (await readFile(EXAMPLE, 'utf8'))
    .replace('bind :80', `bind 127.0.0.1:${frontPort}`)
    .replace('inter 5s fall 3 rise 2', 'inter 200ms fall 2 rise 2')
    .replace(/^\s*server upload1 .*$/m, `    server upload1 127.0.0.1:${appPort} check port ${spPort}`)
    .replace(/^\s*server upload2 .*$/m, '')
    .replace(/^\s*log stdout.*$/m, '') +
    `\nfrontend stats\n    bind 127.0.0.1:${statsPort}\n    stats enable\n    stats uri /stats\n`
  assert.match(config, /option httpchk GET \/readyz/)
  const file = path.join(tmp.path, 'haproxy.cfg')
  await writeFile(file, config)
  const haproxy = await spawnManaged(HAPROXY, ['-db', '-f', file])
  tmp.after(async () => {
    await haproxy.stop()
    upload.close()
  })

  const serverStatus = async (): Promise<string | undefined> => {
    const csv = await (await fetch(`http://127.0.0.1:${statsPort}/stats;csv`)).text()
    const header = csv.split('\n')[0]!.replace(/^# /, '').split(',')
    const row = csv.split('\n').find((l) => l.startsWith('upload_servers,upload1,'))?.split(',')
    return row?.[header.indexOf('status')]
  }
  await waitFor(async () => (await serverStatus()) === 'UP', { message: () => `HAProxy marks the server UP (${haproxy.output()})` })
  assert.equal(await (await fetch(`http://127.0.0.1:${frontPort}/`)).text(), 'upload app')

  // Replication falls behind: readiness fails, HAProxy takes the server out.
  await target.daemon!.stop()
  await writeFile(path.join(sp.source, 'stranded.jpg'), 'x')
  await waitFor(async () => (await serverStatus()) === 'DOWN', { message: 'HAProxy marks the server DOWN' })
  assert.equal((await fetch(`http://127.0.0.1:${frontPort}/`)).status, 503)

  await target.daemon!.restart()
  await waitFor(async () => (await serverStatus()) === 'UP', { message: 'back UP once caught up' })
})
