import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { launch, noBrowser, openPage } from '../helpers/browser.js'
import { makeTempDir } from '../helpers/temp-dir.js'
import { startSyncplane } from '../helpers/syncplane.js'
import { startTarget } from '../helpers/targets.js'

const TOKEN = 'status-page-token-0123456789'

const card = (page: Page, name: string) => page.locator(`article[data-target="${name}"]`)

test('the status page in a real browser: token, live failing state with the error text, resync, pause; strict CSP, no console error', { skip: noBrowser }, async (t) => {
  const tmp = await makeTempDir(t)
  const good = await startTarget(tmp, 'daemon', 'good')
  const bad = await startTarget(tmp, 'daemon', 'bad')
  const sp = await startSyncplane(tmp, {
    targets: [good.config, bad.config],
    env: { ...good.env, ...bad.env, SYNCPLANE_API_TOKEN: TOKEN },
    config: { fullSync: { onStart: false, intervalSec: 0 }, retry: { initialDelayMs: 200, maxDelayMs: 2_000 } },
  })
  const base = await sp.app.listen({ host: '127.0.0.1', port: 0 })
  const browser = await launch(tmp)

  const root = await fetch(`${base}/`, { redirect: 'manual' })
  assert.equal(root.status, 302)
  assert.equal(root.headers.get('location'), '/ui')
  const html = await fetch(`${base}/ui`)
  assert.match(html.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'/)

  const { page, errors } = await openPage(browser, `${base}/`)
  // The token: asked for, refused when wrong, then taken.
  await page.locator('#token').fill('wrong-token-0123456789')
  await page.locator('#login button').click()
  await page.locator('#login-error', { hasText: 'refused' }).waitFor()
  // That refusal is the one error the console may show.
  errors.length = 0
  await page.locator('#token').fill(TOKEN)
  await page.locator('#login button').click()
  await card(page, 'good').waitFor()
  await page.locator('#live', { hasText: 'live' }).waitFor()

  // A target whose daemon stopped turns failing, with the full error on its card, shown first.
  await bad.daemon!.stop()
  await writeFile(path.join(sp.source, 'upload 1.jpg'), 'x')
  await card(page, 'bad').locator('[data-role="state"]', { hasText: /retrying|failing/ }).waitFor({ timeout: 30_000 })
  await card(page, 'bad').locator('[data-role="last-error"]', { hasText: /rsync/ }).waitFor()
  assert.equal(await page.locator('article[data-target]').first().getAttribute('data-target'), 'bad', 'failing targets first')

  // Resync: its job shows in the list (the event stream brings it).
  await card(page, 'good').locator('[data-action="resync"]').click()
  await page.locator('#jobs tr', { hasText: 'api' }).first().waitFor()

  // Force resync: the confirmation shows the dry-run preview first, and can be cancelled.
  await card(page, 'good').locator('[data-action="force-resync"]').click()
  await page.locator('#confirm-body', { hasText: /would send \d+/ }).waitFor()
  await page.locator('#confirm button[value="cancel"]').click()
  await page.locator('#confirm').waitFor({ state: 'hidden' })

  // Pause one target, then everything.
  await card(page, 'good').locator('[data-action="pause"]').click()
  await card(page, 'good').locator('[data-action="resume"]').waitFor()
  await page.locator('#pause-all').click()
  await page.locator('#watcher', { hasText: 'paused' }).waitFor()
  assert.equal((await sp.app.inject({ method: 'GET', url: '/v1/status', headers: { authorization: `Bearer ${TOKEN}` } })).json().paused, true)

  // The pending paths of the failing target.
  await card(page, 'bad').locator('[data-action="pending"]').click()
  await page.locator('#pending-list li', { hasText: 'upload 1.jpg' }).waitFor()

  await page.screenshot({ path: path.join(tmp.path, 'status-page.png'), fullPage: true })
  if (process.env.SYNCPLANE_SCREENSHOT !== undefined) await page.screenshot({ path: process.env.SYNCPLANE_SCREENSHOT, fullPage: true })
  assert.deepEqual(errors, [], 'no console error (a CSP violation would be one)')
})
