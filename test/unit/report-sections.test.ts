// The report's sections as data and the one function that fits them to a byte budget (report/sections.ts).
import { describe, expect, test } from '@jest/globals'
import { SECTIONS_SHOWN, SECTION_IDS, fitToBudget, type BudgetPart } from '../../src/report/sections.js'
import { renderHtml } from '../../src/report/html.js'
import { renderMarkdown } from '../../src/report/markdown.js'
import { showcaseReport } from '../helpers/report-fixture.js'

const item = (c: string, n = 10): string => c.repeat(n - 1) + '\n'

describe('fitToBudget', () => {
  test('fixed parts are whole; the budget goes by priority, and the texts come back in reading order', () => {
    const parts: BudgetPart[] = [
      { header: 'TOP\n' },
      { priority: 2, header: 'B\n', items: [item('b'), item('b')], note: (left, total) => `${left}/${total} b left\n` },
      { priority: 1, header: 'A\n', items: [item('a'), item('a'), item('a')] },
      { header: 'END\n' }
    ]
    // 4 + 4 fixed; A takes 2 + 30; B gets 2 + 10 of the 15 left.
    expect(fitToBudget(parts, 8 + 32 + 15)).toEqual(['TOP\n', `B\n${item('b')}1/2 b left\n`, `A\n${item('a').repeat(3)}`, 'END\n'])
    // A tighter budget cuts the less important part first, then the more important one.
    expect(fitToBudget(parts, 8 + 32 + 2)).toEqual(['TOP\n', 'B\n2/2 b left\n', `A\n${item('a').repeat(3)}`, 'END\n'])
    expect(fitToBudget(parts, 8 + 2 + 10 + 2)).toEqual(['TOP\n', 'B\n2/2 b left\n', `A\n${item('a')}`, 'END\n'])
  })

  test('a closing is counted only when an item is shown; a part that fits nothing can say so in one line instead', () => {
    const collapsed: BudgetPart = { priority: 1, header: '<d>', items: [item('q'), item('q')], closing: '</d>', whenNoneFit: (n) => `${n} hidden\n` }
    expect(fitToBudget([collapsed], 3 + 10 + 4)).toEqual([`<d>${item('q')}</d>`])
    expect(fitToBudget([collapsed], 3 + 10 + 3)).toEqual(['2 hidden\n'])
    expect(fitToBudget([{ priority: 1, header: 'H', items: [], after: '\n' }], 0)).toEqual(['H\n'])
  })

  test('a reserve is held back before any priority spends', () => {
    const parts: BudgetPart[] = [{ header: '', reserve: 10 }, { priority: 1, header: '', items: [item('x'), item('x')] }]
    expect(fitToBudget(parts, 25)).toEqual(['', item('x')])
  })
})

describe('the sections of each serializer', () => {
  test('both serializers show the sections in one order; only the HTML page has the charts', () => {
    expect(SECTIONS_SHOWN.html).toEqual(SECTION_IDS)
    expect(SECTIONS_SHOWN.markdown).toEqual(SECTION_IDS.filter((s) => s !== 'charts'))
    const report = showcaseReport()
    const md = renderMarkdown(report)
    const mdOrder = ['model-fit-gate failed', '# Scenarios', '# Rows, failing first', '# Models', '# Provenance'].map((s) => md.indexOf(s))
    expect(mdOrder.every((at, i) => at >= 0 && (i === 0 || at > mdOrder[i - 1]!))).toBe(true)
    const html = renderHtml(report)
    const htmlOrder = ['class="verdict', 'Predicted against observed', '<h2>Rows', '<h2>Provenance'].map((s) => html.indexOf(s))
    expect(htmlOrder.every((at, i) => at >= 0 && (i === 0 || at > htmlOrder[i - 1]!))).toBe(true)
  })
})
