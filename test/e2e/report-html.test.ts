import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { renderHtml } from '../../src/report/html.js'
import { scenariosIn } from '../../src/report/view.js'
import { decodePng, distinctColors } from '../helpers/png.js'
import { showcaseReport } from '../helpers/report-fixture.js'

// Debian's chromium; install it with `apt-get install -y chromium` (CHROMIUM_PATH overrides).
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const SCREENSHOT = '/tmp/mfg-report.png'
/** A rendered report has text, charts and coloured verdicts; a blank page has a handful of colours. */
const MIN_DISTINCT_COLORS = 200

describe('the HTML report in a real browser', () => {
  let browser: Browser
  let dir: string

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)`)
    dir = await mkdtemp(join(tmpdir(), 'mfg-html-'))
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    })
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  test('renders offline with one chart per scenario, points with model titles, and no errors', async () => {
    const report = showcaseReport()
    const file = join(dir, 'report.html')
    await writeFile(file, renderHtml(report))
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const problems: string[] = []
    const requests: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    page.on('request', (r) => requests.push(r.url()))
    const url = pathToFileURL(file).href
    await page.goto(url, { waitUntil: 'load' })

    expect(problems).toEqual([])
    expect(requests).toEqual([url]) // self-contained: nothing else is fetched
    // The escaped ref shows as text; no script from it ran and no element came from it.
    expect(await page.locator('script').count()).toBe(0)
    expect(await page.getByText('local/<script>alert("x")</script>|pipe').first().isVisible()).toBe(true)

    const scenarios = scenariosIn(report)
    const charts = page.locator('svg.chart')
    expect(await charts.count()).toBe(scenarios.length)
    for (const [i, id] of scenarios.entries()) {
      const chart = charts.nth(i)
      expect(await chart.getAttribute('data-scenario')).toBe(id)
      const drawable = report.models.flatMap((m) => m.scenarios).filter((r) => r.scenario === id && r.predicted !== null && r.observed !== null)
      expect(await chart.locator('circle.point').count()).toBe(drawable.length)
      expect(await chart.locator('line.identity').count()).toBe(1)
      expect(await chart.locator('polygon.band').count()).toBe(1)
      const box = await chart.boundingBox()
      expect(box?.width).toBeGreaterThan(300)
    }
    // Each point names its model in a tooltip.
    const slowTitle = await page.locator('svg.chart[data-scenario="steady_decode"] circle.verdict-slower-than-fit title').textContent()
    expect(slowTitle).toMatch(/^unsloth\/Qwen3-0\.6B-GGUF:Q4_K_M — slower-than-fit: predicted 64\.0 tok\/s, observed 44\.8 tok\/s/)

    const png = await page.screenshot({ fullPage: true, path: SCREENSHOT })
    const blank = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    await blank.setContent('<html><body></body></html>')
    const blankPng = await blank.screenshot()
    expect(distinctColors(decodePng(blankPng))).toBeLessThan(5)
    expect(distinctColors(decodePng(png))).toBeGreaterThan(MIN_DISTINCT_COLORS)
    expect(png.length).toBeGreaterThan(blankPng.length * 10)
  }, 60_000)
})
