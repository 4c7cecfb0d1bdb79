#!/usr/bin/env node
// The JSON schemas are generated from the TypeScript contracts (src/contracts/), so a schema and its type cannot
// drift: a field added, renamed, made optional or nullable in a type changes its schema at the next `npm run schemas`,
// and test/unit/schemas.test.ts fails while the committed file differs from what the types give. Constraints the
// type system has no words for (≥ 0, integer, date-time, non-empty) are JSDoc tags on the fields (@minimum,
// @asType integer, @format, @minLength); ts-json-schema-generator reads them.
//
//   node scripts/schemas.mjs          write every schema
//   node scripts/schemas.mjs --check  exit 1, naming the files, when a committed schema differs from the types
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createGenerator } from 'ts-json-schema-generator'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Every JSON document the tool reads or writes with a schema: the type it is, and where its schema lives. */
export const SCHEMA_DOCUMENTS = [
  {
    type: 'Report',
    source: 'src/contracts/report.ts',
    out: 'src/report/report.schema.json',
    id: 'https://model-fit-gate/report.schema.json',
    title: 'model-fit-gate report',
    description: 'report.json: one run of the gate (src/contracts/report.ts). Keys are snake_case. Version 3.'
  },
  {
    type: 'HardwareProfile',
    source: 'src/contracts/hardware.ts',
    out: 'src/hardware/hardware.schema.json',
    id: 'https://model-fit-gate/hardware.schema.json',
    title: 'model-fit-gate HardwareProfile',
    description: 'hardware.json: what `model-fit-gate probe` measured about one machine and llama.cpp build (src/contracts/hardware.ts). Keys are snake_case. Version 2.'
  },
  {
    type: 'Thresholds',
    source: 'src/contracts/gate.ts',
    out: 'src/gate/thresholds.schema.json',
    id: 'https://model-fit-gate/thresholds.schema.json',
    title: 'model-fit-gate thresholds',
    description: 'thresholds.yml: the gate limits (src/contracts/gate.ts). Percentages are plain numbers (10 means 10 %).'
  },
  {
    type: 'EstimatorInput',
    source: 'src/contracts/estimator.ts',
    out: 'schemas/estimator-input.schema.json',
    id: 'https://github.com/org/model-fit-gate/schemas/estimator-input.schema.json',
    title: 'model-fit-gate external estimator input',
    description: 'What --estimator-command reads on stdin: the measured hardware profile (hardware.json), each model\'s GGUF profile (never its observations), the scenarios to predict and the workload they run with.'
  },
  {
    type: 'EstimatorOutput',
    source: 'src/contracts/estimator.ts',
    out: 'schemas/estimator-output.schema.json',
    id: 'https://github.com/org/model-fit-gate/schemas/estimator-output.schema.json',
    title: 'model-fit-gate external estimator output',
    description: 'What --estimator-command writes on stdout. One prediction per model ref and scenario; a missing one makes that row `skipped`. Units: tok/s for steady_decode, prefill and kv_warm_reuse; ms for first_token.'
  }
]

/**
 * Rules between fields that a TypeScript type does not state, added to the generated schema by name. Each is a fact of
 * the contract, written where a reader of the schema finds it.
 */
const RULES = {
  // first_token is a latency (ms); every other scenario is a rate (tok/s).
  ScenarioResult: {
    allOf: [{ if: { properties: { scenario: { const: 'first_token' } } }, then: { properties: { unit: { const: 'ms' } } }, else: { properties: { unit: { const: 'tok/s' } } } }]
  }
}

/** The schema text of one document, as committed: generated from its type, with its id, title and description. */
export function generateSchema(doc) {
  const generator = createGenerator({
    path: join(root, doc.source),
    tsconfig: join(root, 'tsconfig.json'),
    type: doc.type,
    skipTypeCheck: true,
    additionalProperties: false,
    topRef: false,
    expose: 'export',
    jsDoc: 'extended',
    sortProps: false
  })
  const generated = generator.createSchema(doc.type)
  const { $schema, definitions, ...top } = generated
  for (const [name, extra] of Object.entries(RULES)) {
    if (definitions?.[name]) Object.assign(definitions[name], extra)
  }
  const schema = { $schema, $id: doc.id, title: doc.title, description: doc.description, ...top, ...(definitions ? { definitions } : {}) }
  return JSON.stringify(schema, null, 2) + '\n'
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check')
  const stale = []
  for (const doc of SCHEMA_DOCUMENTS) {
    const text = generateSchema(doc)
    const path = join(root, doc.out)
    let current
    try {
      current = readFileSync(path, 'utf8')
    } catch {
      current = null
    }
    if (current === text) continue
    if (check) stale.push(doc.out)
    else writeFileSync(path, text)
  }
  if (stale.length > 0) {
    console.error(`schemas differ from the types: ${stale.join(', ')}; run \`npm run schemas\` and commit them`)
    process.exit(1)
  }
}
