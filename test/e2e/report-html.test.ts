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

  test("the machine's drift: the sentinel's series as a chart, each point titled, the move beyond the tolerance said at the top", async () => {
    const at = (min: number) => new Date(Date.UTC(2026, 11, 3, 10, min)).toISOString()
    const values = [50, 49.2, 50.8, 49.5, 41, 50.1]
    const report = {
      ...showcaseReport(),
      passes: 2,
      drift: {
        sentinel: { part: 'bw-Q8_0', test: 'bw-Q8_0 decode 32 tokens', unit: 'tok/s' },
        series: values.map((value, i) => ({ at: at(i * 3), pass: i === 0 ? 0 : i < 3 ? 1 : 2, after: i === 0 ? null : `model-${i}`, value })),
        range: (50.8 - 41) / 49.85,
        recheck: { probed_at: '2026-12-03T08:16:46.366Z', facts: [{ fact: 'measured.decode_bandwidth_by_type.Q8_0', test: 'bw-Q8_0 decode 32 tokens', unit: 'tok/s', probed: 51, now: 50, change: -0.0196 }] },
        reason: null
      }
    }
    const file = join(dir, 'drift.html')
    await writeFile(file, renderHtml(report))
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const problems: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`)
    })
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' })
    expect(problems).toEqual([])
    const chart = page.locator('svg.drift-chart')
    expect(await chart.count()).toBe(1)
    const box = await chart.boundingBox()
    expect(box?.width).toBeGreaterThan(300)
    expect(box?.height).toBeGreaterThan(100)
    expect(await chart.locator('circle').count()).toBe(values.length)
    // The one point beyond the tolerance is drawn apart, and says when it was and after which model.
    expect(await chart.locator('circle[fill="#c62828"]').count()).toBe(1)
    expect(await chart.locator('circle[fill="#c62828"] title').textContent()).toMatch(/^2026-12-03T10:12:00.000Z · pass 2, after model-4 · 41\.0 tok\/s \(−17\.6 % from the median\)/)
    // Said at the top: the sentinel moved beyond the tolerance during the run; the re-check held.
    expect(await page.locator('.verdict ~ p.warning').first().textContent()).toMatch(/Sentinel \(bw-Q8_0 decode 32 tokens\): 6 measurements over 15 min, 41\.0–50\.8 tok\/s, range 19\.7 %/)
    expect(await page.getByText(/Re-check against the probe of 2026-12-03T08:16:46.366Z: measured.decode_bandwidth_by_type.Q8_0 −2\.0 %/).isVisible()).toBe(true)
    await page.screenshot({ fullPage: true, path: '/tmp/mfg-drift.png' })
  }, 60_000)
})
