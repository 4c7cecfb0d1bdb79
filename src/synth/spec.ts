import { Ajv } from 'ajv'
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml'
import { InputError, yamlToJs } from '../util/errors.js'
import { SYNTHETIC_ARCHITECTURES, syntheticSpecProblem, type SyntheticArchitecture, type SyntheticModelSpec } from '../gguf/synthetic-layout.js'

/** GGML file types `synth` can produce: F16 is written directly, the rest through llama-quantize. */
export const SYNTH_TYPES = ['F16', 'Q8_0', 'Q4_0', 'Q4_K_M', 'Q5_K_M', 'Q6_K'] as const
export type SynthType = (typeof SYNTH_TYPES)[number]

/** One corpus entry: the writer's SyntheticModelSpec in snake_case, plus a display name and the types to make. */
export interface SynthModelEntry {
  name: string
  architecture: SyntheticArchitecture
  layers: number
  embedding_length: number
  /** 0 for mamba2 (no FFN). */
  feed_forward_length: number
  /** 0 for mamba2 (no attention). */
  heads: number
  kv_heads: number
  head_dim?: number
  vocab_size: number
  context_length: number
  expert_count?: number
  expert_used_count?: number
  expert_feed_forward_length?: number
  tied_embeddings?: boolean
  sliding_window?: number
  shared_expert_count?: number
  shared_expert_feed_forward_length?: number
  leading_dense_layers?: number
  kv_lora_rank?: number
  rope_dims?: number
  nope_dims?: number
  ssm_conv_kernel?: number
  ssm_inner_size?: number
  ssm_state_size?: number
  ssm_time_step_rank?: number
  ssm_group_count?: number
  attention_layers?: number[]
  seed?: number
  types: SynthType[]
}

export interface SynthSpec {
  version: 1
  models: SynthModelEntry[]
}

const positiveInt = { type: 'integer', minimum: 1 }
const count = { type: 'integer', minimum: 0 }
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
          architecture: { enum: [...SYNTHETIC_ARCHITECTURES] },
          layers: positiveInt,
          embedding_length: positiveInt,
          // 0 only for mamba2; the writer's check says so per architecture.
          feed_forward_length: count,
          heads: count,
          kv_heads: count,
          head_dim: positiveInt,
          vocab_size: { type: 'integer', minimum: 256 },
          context_length: positiveInt,
          expert_count: positiveInt,
          expert_used_count: positiveInt,
          expert_feed_forward_length: positiveInt,
          tied_embeddings: { type: 'boolean' },
          sliding_window: positiveInt,
          shared_expert_count: positiveInt,
          shared_expert_feed_forward_length: positiveInt,
          leading_dense_layers: count,
          kv_lora_rank: positiveInt,
          rope_dims: positiveInt,
          nope_dims: positiveInt,
          ssm_conv_kernel: positiveInt,
          ssm_inner_size: positiveInt,
          ssm_state_size: positiveInt,
          ssm_time_step_rank: positiveInt,
          ssm_group_count: positiveInt,
          attention_layers: { type: 'array', minItems: 1, uniqueItems: true, items: count },
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

/** Parses and checks a corpus spec (corpora/synthetic.yml, corpora/architectures.yml); errors name the file, the key path and its line. */
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
    /** `models.I.KEY (line N)`: the key's line, else the entry's when the key is missing. */
    const at = (key: string): string => {
      const line = lineOfPointer(doc.contents, `/models/${i}/${key}`, counter) ?? lineOfPointer(doc.contents, `/models/${i}`, counter)
      return `${where}.${key}${line ? ` (line ${line})` : ''}`
    }
    if (names.has(m.name)) throw new InputError(fileName, at('name'), `duplicate name "${m.name}"`)
    names.add(m.name)
    if (m.kv_heads > 0 && m.heads % m.kv_heads !== 0) throw new InputError(fileName, at('kv_heads'), 'heads must be a multiple of kv_heads')
    const moe = m.architecture === 'qwen3moe'
    if (moe && !(m.expert_count && m.expert_used_count && m.expert_feed_forward_length)) {
      throw new InputError(fileName, where, 'qwen3moe needs expert_count, expert_used_count and expert_feed_forward_length')
    }
    if (moe && m.expert_used_count! > m.expert_count!) {
      throw new InputError(fileName, at('expert_used_count'), 'must not exceed expert_count')
    }
    // Everything else the writer refuses (per-architecture fields and relations), named by the YAML key.
    const problem = syntheticSpecProblem(writerSpec(m))
    if (problem) throw new InputError(fileName, at(snakeCase(problem.field)), problem.message.replace(/\b[a-z]+(?:[A-Z][a-z]*)+\b/g, (w) => (SPEC_FIELDS.has(w) ? snakeCase(w) : w)))
  })
  return data
}

/** The optional fields, by SyntheticModelSpec name, with their corpus keys (always the name in snake_case). */
const FIELD_KEYS: Partial<Record<keyof SyntheticModelSpec, keyof SynthModelEntry>> = {
  headDim: 'head_dim',
  expertCount: 'expert_count',
  expertUsedCount: 'expert_used_count',
  expertFeedForwardLength: 'expert_feed_forward_length',
  tiedEmbeddings: 'tied_embeddings',
  slidingWindow: 'sliding_window',
  sharedExpertCount: 'shared_expert_count',
  sharedExpertFeedForwardLength: 'shared_expert_feed_forward_length',
  leadingDenseLayers: 'leading_dense_layers',
  kvLoraRank: 'kv_lora_rank',
  ropeDims: 'rope_dims',
  nopeDims: 'nope_dims',
  ssmConvKernel: 'ssm_conv_kernel',
  ssmInnerSize: 'ssm_inner_size',
  ssmStateSize: 'ssm_state_size',
  ssmTimeStepRank: 'ssm_time_step_rank',
  ssmGroupCount: 'ssm_group_count',
  attentionLayers: 'attention_layers'
}

/** Every SyntheticModelSpec field a writer message may name, to say it as the corpus key. */
const SPEC_FIELDS: ReadonlySet<string> = new Set(['embeddingLength', 'feedForwardLength', 'kvHeads', 'vocabSize', 'contextLength', ...Object.keys(FIELD_KEYS)])

/** SyntheticModelSpec field → corpus key: kvLoraRank → kv_lora_rank. */
function snakeCase(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
}

/** The writer's spec for a corpus entry (the seed defaults to 1). */
export function writerSpec(m: SynthModelEntry): SyntheticModelSpec {
  const spec: SyntheticModelSpec = {
    architecture: m.architecture,
    layers: m.layers,
    embeddingLength: m.embedding_length,
    feedForwardLength: m.feed_forward_length,
    heads: m.heads,
    kvHeads: m.kv_heads,
    vocabSize: m.vocab_size,
    contextLength: m.context_length,
    seed: m.seed ?? 1
  }
  for (const [field, key] of Object.entries(FIELD_KEYS)) {
    const v = m[key!]
    if (v !== undefined) (spec as unknown as Record<string, unknown>)[field] = v
  }
  return spec
}

/** `synthetic/NAME:TYPE` — the display ref in manifests and reports. */
export function synthRef(name: string, type: SynthType): string {
  return `synthetic/${name}:${type}`
}

export function synthFileName(name: string, type: SynthType): string {
  return `${name}-${type}.gguf`
}
