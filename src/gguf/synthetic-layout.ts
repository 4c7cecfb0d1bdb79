// What a synthetic model contains: the metadata keys and tensors llama.cpp's loader requires for each architecture
// in SYNTHETIC_ARCHITECTURES (one function per family in synthetic-architectures.ts; common keys from
// llama_model_base::load_hparams in src/llama-model.cpp), plus a byte-level BPE tokenizer llama-vocab.cpp accepts.
// The tokenizer is the same for every family, the BERT-family encoders included (their real files carry WordPiece
// "bert" or XLM-R's Unigram "t5" vocabularies): llama_vocab::load reads the tokenizer independently of the
// architecture, so only the token count and token_type_count (added by those families' layouts) matter to loading.
// Pure: spec in, layout out; writer.ts puts it on disk.

import { InputError } from '../util/errors.js'
import { GGUF_DEFAULT_ALIGNMENT, GgufValueType, type GgufKv } from './format.js'
import { ARCHITECTURE_LAYOUTS, EXAONE4_SWA_LAYERS, LayoutBuilder } from './synthetic-architectures.js'
import { SYNTHETIC_ARCHITECTURES, ssmGeometry, type SyntheticArchitecture, type SyntheticLayout, type SyntheticModelSpec } from './synthetic-spec.js'

export {
  SYNTHETIC_ARCHITECTURES,
  ssmGeometry,
  type SsmGeometry,
  type SyntheticArchitecture,
  type SyntheticLayout,
  type SyntheticModelSpec,
  type SyntheticTensor,
  type TensorFill
} from './synthetic-spec.js'

/** 256 byte tokens + the end-of-text token: the smallest vocabulary that can encode any text. */
export const MIN_SYNTHETIC_VOCAB = 257
/** LLAMA_MAX_LAYERS in llama-hparams.h. */
export const MAX_SYNTHETIC_LAYERS = 512
/** LLAMA_MAX_EXPERTS in llama-hparams.h. */
export const MAX_SYNTHETIC_EXPERTS = 512
/** general.file_type for "mostly F16" (llama_ftype LLAMA_FTYPE_MOSTLY_F16). */
const FILE_TYPE_MOSTLY_F16 = 1
const END_OF_TEXT = '<|endoftext|>'
/** llama_token_type values stored in tokenizer.ggml.token_type. */
const TOKEN_TYPE_NORMAL = 1
const TOKEN_TYPE_CONTROL = 3

const u32 = (key: string, value: number): GgufKv => ({ key, type: GgufValueType.UINT32, value })
const str = (key: string, value: string): GgufKv => ({ key, type: GgufValueType.STRING, value })

type Field = keyof SyntheticModelSpec
type OptionalField = Exclude<Field, 'architecture' | 'layers' | 'embeddingLength' | 'feedForwardLength' | 'heads' | 'kvHeads' | 'vocabSize' | 'contextLength' | 'seed'>

const SSM_FIELDS: OptionalField[] = ['ssmConvKernel', 'ssmInnerSize', 'ssmStateSize', 'ssmTimeStepRank', 'ssmGroupCount']
/** The optional fields each family reads; any other one set is refused rather than silently ignored. */
const FAMILY_FIELDS: Record<SyntheticArchitecture, OptionalField[]> = {
  llama: ['headDim', 'expertCount', 'expertUsedCount', 'tiedEmbeddings'],
  qwen3moe: ['headDim', 'expertCount', 'expertUsedCount', 'expertFeedForwardLength', 'tiedEmbeddings'],
  qwen2: ['headDim', 'tiedEmbeddings'],
  qwen2moe: ['headDim', 'expertCount', 'expertUsedCount', 'expertFeedForwardLength', 'sharedExpertFeedForwardLength'],
  gemma3: ['headDim', 'tiedEmbeddings', 'slidingWindow'],
  'gpt-oss': ['headDim', 'expertCount', 'expertUsedCount', 'expertFeedForwardLength', 'slidingWindow'],
  deepseek2: ['headDim', 'expertCount', 'expertUsedCount', 'expertFeedForwardLength', 'tiedEmbeddings', 'sharedExpertCount', 'leadingDenseLayers', 'kvLoraRank', 'ropeDims', 'nopeDims'],
  mamba2: ['tiedEmbeddings', ...SSM_FIELDS],
  granitehybrid: ['tiedEmbeddings', 'attentionLayers', ...SSM_FIELDS],
  qwen3: ['headDim', 'tiedEmbeddings'],
  exaone4: ['headDim', 'tiedEmbeddings', 'slidingWindow'],
  'nomic-bert': [],
  bert: []
}
/** Families whose expert FFN has no MoE without experts (their loaders throw "n_expert must be > 0"). */
const NEEDS_EXPERTS: readonly SyntheticArchitecture[] = ['qwen3moe', 'qwen2moe', 'gpt-oss', 'deepseek2']
/**
 * Families whose loaders size attention by n_embd, not n_head × head size: attn_q (src/models/qwen2.cpp,
 * qwen2moe.cpp, bert.cpp, nomic-bert.cpp) or attn_output (exaone4.cpp: {n_embd, n_embd}).
 */
const Q_IS_EMBEDDING: readonly SyntheticArchitecture[] = ['qwen2', 'qwen2moe', 'exaone4', 'nomic-bert', 'bert']
/** BERT-family encoders: no GQA (their converters write no head_count_kv; llama.cpp defaults it to head_count). */
const NO_GQA: readonly SyntheticArchitecture[] = ['nomic-bert', 'bert']
/** Families whose loaders require output.weight (flag 0 in load_arch_tensors): no tied embeddings. */
const NEEDS_OUTPUT: readonly SyntheticArchitecture[] = ['qwen2moe', 'gpt-oss']

/** What is wrong with a spec: the field (a SyntheticModelSpec key) and why. */
export interface SyntheticSpecProblem {
  field: string
  message: string
}

class SpecProblem extends Error implements SyntheticSpecProblem {
  constructor(
    readonly field: string,
    message: string
  ) {
    super(message)
  }
}

/** The first problem of a spec, or null when the writer can lay it out (the corpus spec parser reports it too). */
export function syntheticSpecProblem(spec: SyntheticModelSpec): SyntheticSpecProblem | null {
  try {
    checkSpec(spec)
    return null
  } catch (err) {
    if (err instanceof SpecProblem) return { field: err.field, message: err.message }
    throw err
  }
}

function check(spec: SyntheticModelSpec): void {
  const problem = syntheticSpecProblem(spec)
  if (problem) throw new InputError('synthetic spec', problem.field, problem.message)
}

function checkSpec(spec: SyntheticModelSpec): void {
  const fail = (field: string, msg: string): never => {
    throw new SpecProblem(field, msg)
  }
  const arch = spec.architecture
  if (!SYNTHETIC_ARCHITECTURES.includes(arch)) fail('architecture', `must be one of ${SYNTHETIC_ARCHITECTURES.join(', ')}, got ${String(arch)}`)
  const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v)
  const attention = arch !== 'mamba2'
  const positiveInts: Field[] = ['layers', 'embeddingLength', 'vocabSize', 'contextLength', ...(attention ? (['feedForwardLength', 'heads', 'kvHeads'] as Field[]) : [])]
  for (const k of positiveInts) {
    const v = spec[k]
    if (!isInt(v) || v <= 0) fail(k, `must be a positive integer, got ${String(v)}`)
  }
  if (!attention) {
    // Mamba2Model.set_gguf_parameters writes head_count 0 and feed_forward_length 0: no attention, no FFN.
    for (const k of ['heads', 'kvHeads', 'feedForwardLength'] as const) if (spec[k] !== 0) fail(k, `mamba2 has none: must be 0, got ${String(spec[k])}`)
  }
  for (const k of Object.keys(spec) as Field[]) {
    if (spec[k] === undefined || !(k in OPTIONAL_FIELD_CHECKS)) continue
    if (arch === 'llama' && k === 'expertFeedForwardLength') {
      fail(k, 'llama sizes experts by feedForwardLength; use qwen3moe for a separate width')
    }
    if (!FAMILY_FIELDS[arch].includes(k as OptionalField)) {
      fail(k, `${arch} does not use it (${FAMILY_FIELDS[arch].length ? `only ${FAMILY_FIELDS[arch].join(', ')}` : 'it takes no optional field'})`)
    }
    const msg = OPTIONAL_FIELD_CHECKS[k as OptionalField](spec[k])
    if (msg) fail(k, msg)
  }
  if (spec.layers > MAX_SYNTHETIC_LAYERS) fail('layers', `at most ${MAX_SYNTHETIC_LAYERS}`)
  if (attention && spec.heads % spec.kvHeads !== 0) fail('kvHeads', `heads (${spec.heads}) must be a multiple of kvHeads (${spec.kvHeads})`)
  if (NO_GQA.includes(arch) && spec.kvHeads !== spec.heads) fail('kvHeads', `${arch} has no GQA: must equal heads (${spec.heads}), got ${spec.kvHeads}`)
  if (attention && arch !== 'deepseek2') {
    const headDim = spec.headDim ?? spec.embeddingLength / spec.heads
    if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) fail('headDim', `must be a positive even integer, got ${headDim}`)
    if (Q_IS_EMBEDDING.includes(arch) && headDim * spec.heads !== spec.embeddingLength) {
      fail('headDim', `${arch} sizes its attention by embeddingLength: heads × headDim must be ${spec.embeddingLength}, got ${headDim * spec.heads}`)
    }
  }
  if (spec.vocabSize < MIN_SYNTHETIC_VOCAB) fail('vocabSize', `must be at least ${MIN_SYNTHETIC_VOCAB}`)
  const experts = spec.expertCount ?? 0
  const used = spec.expertUsedCount ?? 0
  if (NEEDS_EXPERTS.includes(arch) && experts === 0) fail('expertCount', `${arch} needs experts`)
  if (experts > MAX_SYNTHETIC_EXPERTS) fail('expertCount', `at most ${MAX_SYNTHETIC_EXPERTS}`)
  if (experts > 0 && (!Number.isInteger(used) || used <= 0 || used > experts)) {
    fail('expertUsedCount', `must be in 1..expertCount (${experts}), got ${used}`)
  }
  if (experts === 0 && used !== 0) fail('expertUsedCount', 'set without expertCount')
  if (NEEDS_OUTPUT.includes(arch) && spec.tiedEmbeddings) fail('tiedEmbeddings', `${arch} requires output.weight`)
  if (arch === 'gpt-oss' && spec.slidingWindow === undefined) fail('slidingWindow', 'gpt-oss needs it (llama_model_openai_moe::load_arch_hparams reads it as required)')
  if (arch === 'exaone4' && spec.slidingWindow !== undefined && spec.layers !== EXAONE4_SWA_LAYERS) {
    fail('slidingWindow', `exaone4 has sliding layers only at ${EXAONE4_SWA_LAYERS} layers (llama_model_exaone4::load_arch_hparams), got ${spec.layers}`)
  }
  if (arch === 'deepseek2') checkMla(spec, fail)
  if (arch === 'mamba2' || arch === 'granitehybrid') checkSsm(spec, fail)
  if (arch === 'granitehybrid') checkHybrid(spec, fail)
  if (!Number.isInteger(spec.seed)) fail('seed', 'must be an integer')
}

const positive = (v: unknown): string | null => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? null : `must be a positive integer, got ${String(v)}`)
const nonNegative = (v: unknown): string | null => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? null : `must be a non-negative integer, got ${String(v)}`)
/** The type check of each optional field when set; relations between fields come after. */
const OPTIONAL_FIELD_CHECKS: Record<OptionalField, (v: unknown) => string | null> = {
  headDim: positive,
  expertCount: nonNegative,
  expertUsedCount: nonNegative,
  expertFeedForwardLength: positive,
  tiedEmbeddings: (v) => (typeof v === 'boolean' ? null : 'must be true or false'),
  slidingWindow: positive,
  sharedExpertCount: positive,
  sharedExpertFeedForwardLength: positive,
  leadingDenseLayers: nonNegative,
  kvLoraRank: positive,
  ropeDims: (v) => positive(v) ?? ((v as number) % 2 === 0 ? null : `must be even (RoPE rotates pairs), got ${String(v)}`),
  nopeDims: positive,
  ssmConvKernel: (v) => positive(v) ?? ((v as number) >= 2 ? null : `must be at least 2, got ${String(v)}`),
  ssmInnerSize: positive,
  ssmStateSize: positive,
  ssmTimeStepRank: positive,
  ssmGroupCount: positive,
  attentionLayers: (v) => (Array.isArray(v) && v.length > 0 && v.every((i) => Number.isInteger(i) && i >= 0) ? null : 'must be a non-empty list of layer indices')
}

type Fail = (field: string, msg: string) => never

/** src/models/deepseek2.cpp load_arch_hparams / load_arch_tensors, as DeepseekV2Model (conversion/deepseek.py) writes MLA. */
function checkMla(spec: SyntheticModelSpec, fail: Fail): void {
  for (const k of ['kvLoraRank', 'ropeDims', 'nopeDims', 'sharedExpertCount'] as const) {
    if (spec[k] === undefined) fail(k, 'deepseek2 needs it')
  }
  if (spec.kvHeads !== 1) fail('kvHeads', `deepseek2 stores MLA as MQA (DeepseekV2Model writes head_count_kv 1): must be 1, got ${spec.kvHeads}`)
  if ((spec.leadingDenseLayers ?? 0) > spec.layers) fail('leadingDenseLayers', `at most layers (${spec.layers})`)
}

/** src/models/mamba2.cpp and granite-hybrid.cpp load_arch_tensors, mamba-base.cpp build_mamba2_layer asserts. */
function checkSsm(spec: SyntheticModelSpec, fail: Fail): void {
  const g = ssmGeometry(spec)
  if (g.innerSize % g.timeStepRank !== 0) fail('ssmTimeStepRank', `must divide ssmInnerSize (${g.innerSize}), got ${g.timeStepRank}`)
  if (g.innerSize % g.groupCount !== 0) fail('ssmGroupCount', `must divide ssmInnerSize (${g.innerSize}), got ${g.groupCount}`)
  if (g.timeStepRank % g.groupCount !== 0) fail('ssmGroupCount', `must divide ssmTimeStepRank (${g.timeStepRank}), got ${g.groupCount}`)
}

/** granite-hybrid.cpp: GGML_ASSERT(2 * n_embd == d_inner); a layer is recurrent iff its head_count_kv is 0. */
function checkHybrid(spec: SyntheticModelSpec, fail: Fail): void {
  const attn = spec.attentionLayers
  if (!attn) return fail('attentionLayers', 'granitehybrid needs the indices of its attention layers')
  if (attn.some((i) => i >= spec.layers)) fail('attentionLayers', `indices must be below layers (${spec.layers})`)
  if (new Set(attn).size !== attn.length) fail('attentionLayers', 'indices must be unique')
  if (attn.length === spec.layers) fail('attentionLayers', 'at least one layer must be a Mamba-2 layer (GraniteHybridModel converts an all-attention model to granite)')
  if (ssmGeometry(spec).innerSize !== 2 * spec.embeddingLength) {
    fail('ssmInnerSize', `granitehybrid supports only 2 × embeddingLength (${2 * spec.embeddingLength}), got ${String(spec.ssmInnerSize)}`)
  }
}

/** GPT-2's byte→unicode table: printable bytes map to themselves, the rest to U+0100 upwards. */
function byteLevelChars(): string[] {
  const chars: string[] = []
  let extra = 0
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255)
    chars.push(String.fromCodePoint(printable ? b : 256 + extra++))
  }
  return chars
}

/**
 * A byte-level BPE vocabulary of exactly `vocabSize` unique tokens: the 256 byte tokens, the end-of-text control
 * token, then two- and three-character tokens each with the merge that builds it, so every merge is consistent.
 */
export function syntheticVocab(vocabSize: number): { tokens: string[]; types: number[]; merges: string[]; eos: number } {
  const bytes = byteLevelChars()
  const tokens = [...bytes, END_OF_TEXT]
  const types = [...bytes.map(() => TOKEN_TYPE_NORMAL), TOKEN_TYPE_CONTROL]
  const merges: string[] = []
  /** Adds left + right for every pair, with its merge, while the vocabulary has room; returns the tokens added. */
  const combine = (lefts: readonly string[], rights: readonly string[]): string[] => {
    const added: string[] = []
    for (const a of lefts) {
      for (const b of rights) {
        if (tokens.length >= vocabSize) return added
        tokens.push(a + b)
        types.push(TOKEN_TYPE_NORMAL)
        merges.push(`${a} ${b}`)
        added.push(a + b)
      }
    }
    return added
  }
  combine(combine(bytes, bytes), bytes)
  return { tokens, types, merges, eos: bytes.length }
}

export function syntheticLayout(spec: SyntheticModelSpec): SyntheticLayout {
  check(spec)
  const arch = spec.architecture
  const vocab = syntheticVocab(spec.vocabSize)

  // general.name is deliberately uninformative: an estimator must read geometry from the arch keys and tensors.
  const out = new LayoutBuilder(arch)
  out.metadata.push(
    str('general.architecture', arch),
    str('general.name', 'synthetic'),
    u32('general.file_type', FILE_TYPE_MOSTLY_F16),
    u32('general.alignment', GGUF_DEFAULT_ALIGNMENT)
  )
  ARCHITECTURE_LAYOUTS[arch](spec, out)
  out.metadata.push(
    str('tokenizer.ggml.model', 'gpt2'),
    str('tokenizer.ggml.pre', 'default'),
    { key: 'tokenizer.ggml.tokens', type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: vocab.tokens },
    { key: 'tokenizer.ggml.token_type', type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: vocab.types },
    { key: 'tokenizer.ggml.merges', type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: vocab.merges },
    u32('tokenizer.ggml.bos_token_id', vocab.eos),
    u32('tokenizer.ggml.eos_token_id', vocab.eos),
    { key: 'tokenizer.ggml.add_bos_token', type: GgufValueType.BOOL, value: false },
    ...out.tokenizerMetadata
  )
  return { metadata: out.metadata, tensors: out.tensors, alignment: GGUF_DEFAULT_ALIGNMENT }
}
