// The JSON schemas are generated from the contracts (scripts/schemas.mjs): the committed files must be what the types
// give today, and every key a file can hold follows the one key rule (snake_case).
import { describe, expect, test } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
// @ts-expect-error: the generator script is plain JavaScript without types
import { SCHEMA_DOCUMENTS, generateSchema } from '../../scripts/schemas.mjs'

interface SchemaDocument {
  type: string
  out: string
}
const root = join(import.meta.dirname, '..', '..')
const documents = SCHEMA_DOCUMENTS as SchemaDocument[]

/** Every property name a schema allows, with its JSON path in the schema. */
function propertyNames(schema: unknown, path = '$'): Array<[string, string]> {
  if (Array.isArray(schema)) return schema.flatMap((s, i) => propertyNames(s, `${path}[${i}]`))
  if (schema === null || typeof schema !== 'object') return []
  const out: Array<[string, string]> = []
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties' && v !== null && typeof v === 'object') {
      for (const [name, sub] of Object.entries(v)) out.push([name, `${path}.properties`], ...propertyNames(sub, `${path}.properties.${name}`))
    } else out.push(...propertyNames(v, `${path}.${k}`))
  }
  return out
}

describe('JSON schemas from the TypeScript contracts', () => {
  test.each(documents.map((d) => [d.out, d] as const))('%s is what its type generates (else run `npm run schemas`)', (_out, doc) => {
    expect(readFileSync(join(root, doc.out), 'utf8')).toBe(generateSchema(doc))
  })

  test('every key of every file is snake_case', () => {
    for (const doc of documents) {
      const schema = JSON.parse(readFileSync(join(root, doc.out), 'utf8')) as unknown
      const bad = propertyNames(schema).filter(([name]) => !/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(name))
      expect(bad.map(([name, at]) => `${doc.out}: ${name} at ${at}`)).toEqual([])
      expect(propertyNames(schema).length).toBeGreaterThan(2)
    }
  })
})
