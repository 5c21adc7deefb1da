import { test } from 'node:test'
import assert from 'node:assert/strict'
import { launch, noBrowser, openPage } from '../helpers/browser.js'
import { makeTempDir } from '../helpers/temp-dir.js'
import { startSyncplane } from '../helpers/syncplane.js'
import { startTarget } from '../helpers/targets.js'

test('Swagger UI at /docs and /docs/ in a real browser shows every operation of the document, with no console error', { skip: noBrowser }, async (t) => {
  const tmp = await makeTempDir(t)
  const target = await startTarget(tmp, 'local')
  const sp = await startSyncplane(tmp, { targets: [target.config], env: target.env })
  const base = await sp.app.listen({ host: '127.0.0.1', port: 0 })

  const doc = await (await fetch(`${base}/openapi.json`)).json() as { paths: Record<string, Record<string, unknown>> }
  const operations = Object.values(doc.paths).reduce((n, methods) => n + Object.keys(methods).length, 0)
  for (const [file, type] of [['swagger-ui-bundle.js', 'text/javascript'], ['swagger-ui.css', 'text/css'], ['favicon-32x32.png', 'image/png'], ['swagger-initializer.js', 'text/javascript']]) {
    const res = await fetch(`${base}/docs/static/${file}`)
    assert.equal(res.status, 200, file)
    assert.match(res.headers.get('content-type') ?? '', new RegExp(`^${type}`), file)
  }
  const missing = await fetch(`${base}/docs/static/swagger-ui.js.map`)
  assert.equal(missing.status, 404)
  assert.match(missing.headers.get('content-type') ?? '', /application\/problem\+json/)

  const browser = await launch(tmp)
  for (const url of [`${base}/docs/`, `${base}/docs`]) {
    const { page, errors } = await openPage(browser, url)
    await page.locator('.info .title', { hasText: 'syncplane' }).waitFor()
    await page.locator('#operations-status-getStatus').waitFor()
    assert.equal(await page.locator('.opblock').count(), operations, `${url}: one block per operation`)
    assert.deepEqual(errors, [], url)
    await page.close()
  }
})
