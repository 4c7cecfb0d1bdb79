import { Ajv } from 'ajv'
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml'
import { InputError, yamlToJs } from '../util/errors.js'

/** GGML file types `synth` can produce: F16 is written directly, the rest through llama-quantize. */
export const SYNTH_TYPES = ['F16', 'Q8_0', 'Q4_0', 'Q4_K_M', 'Q5_K_M', 'Q6_K'] as const
export type SynthType = (typeof SYNTH_TYPES)[number]

export interface SynthModelEntry {
  name: string
  architecture: 'llama' | 'qwen3moe'
  layers: number
  embedding_length: number
  feed_forward_length: number
  heads: number
  kv_heads: number
  head_dim?: number
  vocab_size: number
  context_length: number
  expert_count?: number
  expert_used_count?: number
  expert_feed_forward_length?: number
  seed?: number
  types: SynthType[]
}

export interface SynthSpec {
  version: 1
  models: SynthModelEntry[]
}

const positiveInt = { type: 'integer', minimum: 1 }
const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['version', 'models'],
  properties: {
    version: { const: 1 },
    models: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'architecture', 'layers', 'embedding_length', 'feed_forward_length', 'heads', 'kv_heads', 'vocab_size', 'context_length', 'types'],
        properties: {
          name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' },
          architecture: { enum: ['llama', 'qwen3moe'] },
          layers: positiveInt,
          embedding_length: positiveInt,
          feed_forward_length: positiveInt,
          heads: positiveInt,
          kv_heads: positiveInt,
          head_dim: positiveInt,
          vocab_size: { type: 'integer', minimum: 256 },
          context_length: positiveInt,
          expert_count: positiveInt,
          expert_used_count: positiveInt,
          expert_feed_forward_length: positiveInt,
          seed: { type: 'integer', minimum: 0 },
          types: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...SYNTH_TYPES] } }
        }
      }
    }
  }
} as const

const ajv = new Ajv({ allErrors: false })
const validate = ajv.compile<SynthSpec>(SCHEMA)

/** The line of the YAML node at a JSON pointer like /models/2/types, for error messages. */
export function lineOfPointer(root: Node | null, pointer: string, counter: LineCounter): number | null {
  let node: unknown = root
  for (const part of pointer.split('/').filter(Boolean)) {
    if (isMap(node)) node = node.get(part, true)
    else if (isSeq(node)) node = node.get(Number(part), true)
    else break
  }
  const range = (node as { range?: [number, number, number] } | null)?.range
  return range ? counter.linePos(range[0]).line : null
}

/** Parses and checks corpora/synthetic.yml; errors name the file, the key path and its line. */
export function parseSynthSpec(text: string, fileName: string): SynthSpec {
  const counter = new LineCounter()
  const doc = parseDocument(text, { lineCounter: counter })
  if (doc.errors.length) {
    const e = doc.errors[0]!
    throw new InputError(fileName, `line ${e.linePos?.[0]?.line ?? '?'}`, e.message)
  }
  const data: unknown = yamlToJs(() => doc.toJS({ maxAliasCount: 100 }), fileName)
  if (!validate(data)) {
    const err = validate.errors![0]!
    const line = lineOfPointer(doc.contents, err.instancePath, counter)
    const key = err.instancePath.split('/').filter(Boolean).join('.') || '(top level)'
    const extra = err.keyword === 'additionalProperties' ? ` "${(err.params as { additionalProperty: string }).additionalProperty}"` : ''
    throw new InputError(fileName, `${key}${line ? ` (line ${line})` : ''}`, `${err.message ?? 'invalid'}${extra}`)
  }
  const names = new Set<string>()
  data.models.forEach((m, i) => {
    const where = `models.${i}`
    if (names.has(m.name)) throw new InputError(fileName, `${where}.name`, `duplicate name "${m.name}"`)
    names.add(m.name)
    if (m.heads % m.kv_heads !== 0) throw new InputError(fileName, `${where}.kv_heads`, 'heads must be a multiple of kv_heads')
    const moe = m.architecture === 'qwen3moe'
    if (moe && !(m.expert_count && m.expert_used_count && m.expert_feed_forward_length)) {
      throw new InputError(fileName, where, 'qwen3moe needs expert_count, expert_used_count and expert_feed_forward_length')
    }
    if (moe && m.expert_used_count! > m.expert_count!) {
      throw new InputError(fileName, `${where}.expert_used_count`, 'must not exceed expert_count')
    }
  })
  return data
}

/** `synthetic/NAME:TYPE` — the display ref in manifests and reports. */
export function synthRef(name: string, type: SynthType): string {
  return `synthetic/${name}:${type}`
}

export function synthFileName(name: string, type: SynthType): string {
  return `${name}-${type}.gguf`
}
