import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'
import type { TempDir } from './temp-dir.js'

/** Debian's chromium (CI installs it); playwright-core downloads no browser. */
export const CHROMIUM = process.env.SYNCPLANE_CHROMIUM ?? '/usr/bin/chromium'

/** For `test(name, { skip: noBrowser }, …)`: why a browser test cannot run here, or false. */
export const noBrowser: string | false = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM} (apt-get install chromium)`

/** The browser, closed with the temporary directory. */
export async function launch (tmp: TempDir): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] })
  tmp.after(() => browser.close())
  return browser
}

/** A page that records every console error and uncaught exception (a CSP violation is one). */
export async function openPage (browser: Browser, url: string): Promise<{ page: Page, errors: string[] }> {
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()) })
  page.on('pageerror', (err) => errors.push(err.message))
  await page.goto(url)
  return { page, errors }
}
