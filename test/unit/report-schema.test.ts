import { describe, expect, test } from '@jest/globals'
import type { LlamaMemoryCheck } from '../../src/contracts/verdict.js'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseReport, serializeReport, validateReport } from '../../src/report/schema.js'
import { readReport, writeReport } from '../../src/pipeline/report-files.js'
import type { Report } from '../../src/contracts/report.js'
import { showcaseReport } from '../helpers/report-fixture.js'

function errorOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('expected an error')
}

/** A current report as versions 1 and 2 wrote it: no layer plan, no shared-expert width, no recurrent state. */
function stripV3<T extends { models: readonly { profile: unknown; fit: unknown }[] }>(r: T): T {
  return {
    ...r,
    models: r.models.map((m) => {
      const drop = (o: unknown, keys: readonly string[]): unknown => (o && typeof o === 'object' ? Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k))) : o)
      const profile = drop(m.profile, ['layerPlan', 'layer_plan', 'shared_expert_feed_forward_length', 'sharedExpertFeedForwardLength'])
      const fit = drop(m.fit, ['recurrentStateBytes', 'recurrent_state_bytes'])
      return { ...m, profile, fit }
    })
  }
}

/** The report as an older version reads back: the fixture's plans say they were rebuilt. */
function withRebuiltPlan(r: Report): Report {
  const note = 'read from a schema_version 2 report: every layer costed as full attention, as that version did'
  return { ...r, models: r.models.map((m) => (m.profile ? { ...m, profile: { ...m.profile, layer_plan: { ...m.profile.layer_plan, assumptions: [note] } } } : m)) }
}

function mutate(f: (r: Record<string, unknown> & Report) => void): unknown {
  const copy = JSON.parse(JSON.stringify(showcaseReport())) as Record<string, unknown> & Report
  f(copy)
  return copy
}

describe('report schema', () => {
  test('a report built by the pipeline validates, and serialises to the same bytes every time', () => {
    const report = showcaseReport()
    expect(validateReport(JSON.parse(JSON.stringify(report)), 'report.json')).toEqual(report)
    const text = serializeReport(report)
    expect(serializeReport(showcaseReport())).toBe(text)
    expect(parseReport(text, 'report.json')).toEqual(JSON.parse(text))
    // Keys are sorted: the text does not depend on construction order.
    expect(text.indexOf('"estimator"')).toBeLessThan(text.indexOf('"gate"'))
  })

  test("a model's llama_memory check validates; a negative logged size is refused with its path", () => {
    const check = { logged: { model_bytes: 10, kv_bytes: null, rs_bytes: null, compute_bytes: 5, repacked_model_bytes: null }, estimated: { model_bytes: 11, kv_bytes: 2, rs_bytes: 0, compute_bytes: 5 }, error_pct: { model: 10, kv: null, state: null, compute: 0 } }
    expect(() => validateReport(mutate((r) => (r.models[0]!.llama_memory = check)), 'report.json')).not.toThrow()
    const bad = { ...check, logged: { ...check.logged, model_bytes: -1 } }
    expect(errorOf(() => validateReport(mutate((r) => (r.models[0]!.llama_memory = bad)), 'report.json'))).toContain('models[0].llama_memory.logged.model_bytes: must be >= 0')
  })

  test('a wrong type names the JSON path of the field', () => {
    const bad = mutate((r) => {
      ;(r.models[2]?.scenarios[0] as unknown as Record<string, unknown>).ratio = 'fast'
    })
    expect(errorOf(() => validateReport(bad, 'report.json'))).toBe(
      'report.json: models[2].scenarios[0].ratio: must be number or null, got "fast"'
    )
  })

  test('an unknown verdict, a misspelt field and a missing field are named', () => {
    expect(errorOf(() => validateReport(mutate((r) => ((r.models[0]?.scenarios[1] as { verdict: string }).verdict = 'ok')), 'r.json'))).toMatch(
      /^r\.json: models\[0\]\.scenarios\[1\]\.verdict: must be equal to one of the allowed values, got "ok"/
    )
    expect(
      errorOf(() => validateReport(mutate((r) => ((r.models[0]?.scenarios[1] as unknown as Record<string, unknown>).abs_err = 1)), 'r.json'))
    ).toBe('r.json: models[0].scenarios[1].abs_err: is not a known field')
    expect(errorOf(() => validateReport(mutate((r) => delete (r as Partial<Report>).gate), 'r.json'))).toBe('r.json: gate: is required')
  })

  test('first_token must be in ms and the others in tok/s', () => {
    const bad = mutate((r) => {
      const row = r.models[0]?.scenarios.find((s) => s.scenario === 'first_token')
      if (row) row.unit = 'tok/s'
    })
    expect(errorOf(() => validateReport(bad, 'r.json'))).toMatch(/^r\.json: models\[0\]\.scenarios\[2\]\.unit: must be equal to constant/)
  })

  test('NaN never reaches the file: serialising a report with NaN fails with its path', () => {
    const report = showcaseReport()
    ;(report.models[0]?.scenarios[0] as { abs_error_pct: number }).abs_error_pct = Number.NaN
    expect(errorOf(() => serializeReport(report, 'out.json'))).toBe('out.json: models[0].scenarios[0].abs_error_pct: must be number or null, got NaN')
  })

  test('a version 1 report (camelCase keys in its profile, fit, hardware and workload) is read as the current version', () => {
    const report = showcaseReport()
    const camel = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(camel) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), camel(x)])) : v
    const v1 = {
      ...report,
      schema_version: 1,
      hardware: { ...(camel(report.hardware) as object), schema_version: 1 },
      workload: camel(report.workload),
      models: report.models.map((m) => ({ ...m, profile: camel(m.profile), fit: camel(m.fit) }))
    }
    expect(JSON.stringify(v1)).toContain('"activeBytesPerToken"')
    // Versions 1 and 2 had no layer plan: it is rebuilt from the profile's own fields, and says so.
    const read = validateReport(JSON.parse(JSON.stringify(stripV3(v1))), 'v1.json')
    expect(read).toEqual(withRebuiltPlan(report))
  })

  test('a version 2 report is read with its layer plan rebuilt as the full attention that version costed, no state, no shared experts', () => {
    const report = showcaseReport()
    // A version 2 memory check had no state and no repacked copies.
    report.models[0]!.llama_memory = {
      logged: { model_bytes: 10, kv_bytes: 4, rs_bytes: null, compute_bytes: 5, repacked_model_bytes: null },
      estimated: { model_bytes: 10, kv_bytes: 4, rs_bytes: 0, compute_bytes: 5 },
      error_pct: { model: 0, kv: 0, state: null, compute: 0 }
    }
    const v2 = stripV3({ ...report, schema_version: 2 })
    v2.models[0]!.llama_memory = {
      logged: { model_bytes: 10, kv_bytes: 4, compute_bytes: 5 },
      estimated: { model_bytes: 10, kv_bytes: 4, compute_bytes: 5 },
      error_pct: { model: 0, kv: 0, compute: 0 }
    } as unknown as LlamaMemoryCheck
    const read = validateReport(JSON.parse(JSON.stringify(v2)), 'v2.json')
    expect(read).toEqual(withRebuiltPlan(report))
    expect(read.models[0]!.profile!.layer_plan.full_attention_layers).toBe(report.models[0]!.profile!.layers)
    expect(read.models[0]!.fit!.recurrent_state_bytes).toBe(0)
  })

  test('another schema_version and non-JSON are clear input errors', () => {
    expect(errorOf(() => validateReport(mutate((r) => ((r as { schema_version: number }).schema_version = 4)), 'new.json'))).toMatch(
      /^new\.json: schema_version: report schema_version 4 is not supported .* \(it reads 3\)/
    )
    expect(errorOf(() => parseReport('{"schema', 'x.json'))).toMatch(/^x\.json: not valid JSON/)
    expect(errorOf(() => validateReport(mutate((r) => (r.generated_at = 'yesterday')), 'r.json'))).toMatch(
      /^r\.json: generated_at: must match format "date-time"/
    )
  })

  test('the hardware profile inside a report is checked as hardware.json is (one type, one schema)', () => {
    const extra = mutate((r) => {
      ;(r.hardware as unknown as Record<string, unknown>).newProbe = { anything: true }
    })
    expect(errorOf(() => validateReport(extra, 'r.json'))).toBe('r.json: hardware.newProbe: is not a known field')
    expect(errorOf(() => validateReport(mutate((r) => delete (r.hardware as Partial<Report['hardware']>).fingerprint), 'r.json'))).toBe(
      'r.json: hardware.fingerprint: is required'
    )
  })

  test('writeReport writes validated JSON atomically; readReport validates what it reads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mfg-report-'))
    try {
      const path = join(dir, 'sub', 'report.json')
      await writeReport(path, showcaseReport())
      expect(await readReport(path)).toEqual(showcaseReport())
      const broken = showcaseReport()
      ;(broken as { gate: unknown }).gate = { passed: 'yes', failures: [] }
      await expect(writeReport(join(dir, 'bad.json'), broken)).rejects.toThrow(/bad\.json: gate\.passed: must be boolean/)
      await expect(readFile(join(dir, 'bad.json'))).rejects.toThrow(/ENOENT/)
      await writeFile(join(dir, 'edited.json'), (await readFile(path, 'utf8')).replace('"passed": false', '"passed": 0'))
      await expect(readReport(join(dir, 'edited.json'))).rejects.toThrow(/edited\.json: gate\.passed: must be boolean, got 0/)
      await expect(readReport(join(dir, 'missing.json'))).rejects.toThrow(/missing\.json: cannot read the report/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('bounded outputs', () => {
  test('a llama.cpp log over the limit keeps its head and tail, with a note; smaller logs are untouched', async () => {
    const { boundLogs } = await import('../../src/pipeline/report-files.js')
    const { mkdtemp: mk, writeFile: wf, readFile: rf, rm: rmr, mkdir: md } = await import('node:fs/promises')
    const { tmpdir: td } = await import('node:os')
    const { join: j } = await import('node:path')
    const dir = await mk(j(td(), 'mfg-logs-'))
    try {
      await md(j(dir, 'm'), { recursive: true })
      const big = j(dir, 'm', 'server.log')
      await wf(big, Buffer.concat([Buffer.from('LOAD '), Buffer.alloc(12 * 1024 * 1024, 0x2e), Buffer.from(' CRASH')]))
      await wf(j(dir, 'small.log'), 'fine\n')
      expect(await boundLogs(dir)).toEqual([big])
      const kept = await rf(big, 'utf8')
      expect(kept.length).toBeLessThan(6 * 1024 * 1024)
      expect(kept.startsWith('LOAD ')).toBe(true)
      expect(kept.endsWith(' CRASH')).toBe(true)
      expect(kept).toMatch(/\[… model-fit-gate cut \d+ bytes of this 12582923-byte log/)
      expect(await rf(j(dir, 'small.log'), 'utf8')).toBe('fine\n')
    } finally {
      await rmr(dir, { recursive: true, force: true })
    }
  })

  test('the failures output stays under 1 MiB whatever the failures', async () => {
    const { failuresOutput } = await import('../../src/action/main.js')
    const out = failuresOutput(Array.from({ length: 5000 }, (_, i) => `failure ${i}: ${'x'.repeat(5000)}`))
    expect(out.length).toBeLessThan(1024 * 1024)
    const list = JSON.parse(out) as string[]
    expect(list.at(-1)).toMatch(/^\+\d+ more failures in the report$/)
  })
})
