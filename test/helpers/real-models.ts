// Header-only stand-ins for the models of corpora/smoke.txt and corpora/deep.txt, for a test that cannot reach the
// Hub: each model's real architecture and geometry (from its config.json on the Hub), its tensors in the types its
// quantization gives them (llama.cpp's llama_tensor_get_type for the *_K_M mixes, simplified), and the real header
// at the start of a sparse file of the resulting size. The weights are holes; llama.cpp's memory projection never
// reads them. Split models (Qwen2.5-7B Q8_0) are written as llama.cpp's gguf-split does: the first shard holds the
// metadata, every shard split.no / split.count / split.tensors.count and its share of the tensors.
import { createHash } from 'node:crypto'
import { mkdir, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeGgufHeader, type TensorSpec } from '../../src/gguf/encode.js'
import { GgufValueType, type GgufKv } from '../../src/gguf/format.js'
import { GGML_TYPE } from '../../src/gguf/ggml-types.js'
import { syntheticLayout, type SyntheticModelSpec } from '../../src/gguf/writer.js'
import type { HubFileSpec } from './hub-server.js'

export type RealQuant = 'Q4_K_M' | 'Q5_K_M' | 'Q6_K' | 'Q8_0' | 'BF16' | 'MXFP4'

export interface RealModel {
  /** The manifest ref. */
  ref: string
  repo: string
  /** The file name(s) in the repo: one, or the shards of a split model. */
  files: string[]
  quant: RealQuant
  spec: SyntheticModelSpec
}

/** llama_ftype of each quantization (general.file_type). */
const FTYPE: Record<RealQuant, number> = { Q4_K_M: 15, Q5_K_M: 17, Q6_K: 18, Q8_0: 7, BF16: 32, MXFP4: 38 }

type Arch = SyntheticModelSpec['architecture']
const g = (architecture: string, layers: number, embeddingLength: number, feedForwardLength: number, heads: number, kvHeads: number, headDim: number, vocabSize: number, contextLength: number, extra: Partial<SyntheticModelSpec> = {}): SyntheticModelSpec => ({
  architecture: architecture as Arch, layers, embeddingLength, feedForwardLength, heads, kvHeads, headDim, vocabSize, contextLength, seed: 1, ...extra
})

// Geometries from each model's config.json.
const SMOLLM2_135M = g('llama', 30, 576, 1536, 9, 3, 64, 49152, 8192, { tiedEmbeddings: true })
const QWEN3_0_6B = g('qwen3', 28, 1024, 3072, 16, 8, 128, 151936, 40960, { tiedEmbeddings: true })
const EXAONE4_1_2B = g('exaone4', 30, 2048, 4096, 32, 8, 64, 102400, 65536, { tiedEmbeddings: true })
const LLAMA32_3B = g('llama', 28, 3072, 8192, 24, 8, 128, 128256, 131072, { tiedEmbeddings: true })
const GEMMA3_4B = g('gemma3', 34, 2560, 10240, 8, 4, 256, 262208, 131072, { slidingWindow: 1024, tiedEmbeddings: true })
const QWEN25_7B = g('qwen2', 28, 3584, 18944, 28, 4, 128, 152064, 32768, { tiedEmbeddings: false })
const QWEN3_8B = g('qwen3', 36, 4096, 12288, 32, 8, 128, 151936, 40960, { tiedEmbeddings: false })
const QWEN3_30B_A3B = g('qwen3moe', 48, 2048, 6144, 32, 4, 128, 151936, 40960, { expertCount: 128, expertUsedCount: 8, expertFeedForwardLength: 768, tiedEmbeddings: false })
// The encoders' head width is n_embd / heads (the layout takes no headDim).
const { headDim: _n, ...NOMIC_EMBED } = g('nomic-bert', 12, 768, 3072, 12, 12, 64, 30522, 2048)
const { headDim: _b, ...BGE_RERANKER_M3 } = g('bert', 24, 1024, 4096, 16, 16, 64, 250002, 8194)
const GEMMA3_12B = g('gemma3', 48, 3840, 15360, 16, 8, 256, 262208, 131072, { slidingWindow: 1024, tiedEmbeddings: true })
const QWEN3_14B = g('qwen3', 40, 5120, 17408, 40, 8, 128, 151936, 40960, { tiedEmbeddings: false })
const MISTRAL_SMALL_24B = g('llama', 40, 5120, 32768, 32, 8, 128, 131072, 131072, { tiedEmbeddings: false })
const QWEN3_32B = g('qwen3', 64, 5120, 25600, 64, 8, 128, 151936, 40960, { tiedEmbeddings: false })
const GPT_OSS_20B = g('gpt-oss', 24, 2880, 2880, 64, 8, 64, 201088, 131072, { expertCount: 32, expertUsedCount: 4, expertFeedForwardLength: 2880, slidingWindow: 128 })

const m = (ref: string, files: string[], quant: RealQuant, spec: SyntheticModelSpec): RealModel => ({ ref, repo: ref.split(':')[0]!, files, quant, spec })

/** Every model of corpora/smoke.txt and corpora/deep.txt. */
export const REAL_MODELS: RealModel[] = [
  m('bartowski/SmolLM2-135M-Instruct-GGUF:Q8_0', ['SmolLM2-135M-Instruct-Q8_0.gguf'], 'Q8_0', SMOLLM2_135M),
  m('unsloth/Qwen3-0.6B-GGUF:Q4_K_M', ['Qwen3-0.6B-Q4_K_M.gguf'], 'Q4_K_M', QWEN3_0_6B),
  m('unsloth/Qwen3-0.6B-GGUF:Q8_0', ['Qwen3-0.6B-Q8_0.gguf'], 'Q8_0', QWEN3_0_6B),
  m('unsloth/Qwen3-0.6B-GGUF:BF16', ['Qwen3-0.6B-BF16.gguf'], 'BF16', QWEN3_0_6B),
  m('LGAI-EXAONE/EXAONE-4.0-1.2B-GGUF:Q4_K_M', ['EXAONE-4.0-1.2B-Q4_K_M.gguf'], 'Q4_K_M', EXAONE4_1_2B),
  m('bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M', ['Llama-3.2-3B-Instruct-Q4_K_M.gguf'], 'Q4_K_M', LLAMA32_3B),
  m('unsloth/gemma-3-4b-it-GGUF:Q4_K_M', ['gemma-3-4b-it-Q4_K_M.gguf'], 'Q4_K_M', GEMMA3_4B),
  m('bartowski/Qwen2.5-Coder-7B-Instruct-GGUF:Q4_K_M', ['Qwen2.5-Coder-7B-Instruct-Q4_K_M.gguf'], 'Q4_K_M', QWEN25_7B),
  m('unsloth/Qwen3-8B-GGUF:Q4_K_M', ['Qwen3-8B-Q4_K_M.gguf'], 'Q4_K_M', QWEN3_8B),
  m('unsloth/Qwen3-8B-GGUF:Q5_K_M', ['Qwen3-8B-Q5_K_M.gguf'], 'Q5_K_M', QWEN3_8B),
  m('unsloth/Qwen3-8B-GGUF:Q6_K', ['Qwen3-8B-Q6_K.gguf'], 'Q6_K', QWEN3_8B),
  m('unsloth/Qwen3-8B-GGUF:Q8_0', ['Qwen3-8B-Q8_0.gguf'], 'Q8_0', QWEN3_8B),
  m('Qwen/Qwen2.5-7B-Instruct-GGUF:Q8_0', [1, 2, 3].map((i) => `qwen2.5-7b-instruct-q8_0-0000${i}-of-00003.gguf`), 'Q8_0', QWEN25_7B),
  m('unsloth/gemma-3-12b-it-GGUF:Q4_K_M', ['gemma-3-12b-it-Q4_K_M.gguf'], 'Q4_K_M', GEMMA3_12B),
  m('unsloth/Qwen3-14B-GGUF:Q4_K_M', ['Qwen3-14B-Q4_K_M.gguf'], 'Q4_K_M', QWEN3_14B),
  m('unsloth/Mistral-Small-3.2-24B-Instruct-2506-GGUF:Q4_K_M', ['Mistral-Small-3.2-24B-Instruct-2506-Q4_K_M.gguf'], 'Q4_K_M', MISTRAL_SMALL_24B),
  m('unsloth/Qwen3-32B-GGUF:Q4_K_M', ['Qwen3-32B-Q4_K_M.gguf'], 'Q4_K_M', QWEN3_32B),
  m('unsloth/Qwen3-30B-A3B-GGUF:Q4_K_M', ['Qwen3-30B-A3B-Q4_K_M.gguf'], 'Q4_K_M', QWEN3_30B_A3B),
  m('unsloth/Qwen3-30B-A3B-GGUF:Q8_0', ['Qwen3-30B-A3B-Q8_0.gguf'], 'Q8_0', QWEN3_30B_A3B),
  m('unsloth/Qwen3-30B-A3B-Instruct-2507-GGUF:Q4_K_M', ['Qwen3-30B-A3B-Instruct-2507-Q4_K_M.gguf'], 'Q4_K_M', QWEN3_30B_A3B),
  m('ggml-org/gpt-oss-20b-GGUF', ['gpt-oss-20b-mxfp4.gguf'], 'MXFP4', GPT_OSS_20B),
  m('nomic-ai/nomic-embed-text-v1.5-GGUF:Q8_0', ['nomic-embed-text-v1.5.Q8_0.gguf'], 'Q8_0', NOMIC_EMBED),
  m('Qwen/Qwen3-Embedding-0.6B-GGUF:Q8_0', ['Qwen3-Embedding-0.6B-Q8_0.gguf'], 'Q8_0', { ...QWEN3_0_6B, embedding: true } as SyntheticModelSpec),
  m('gpustack/bge-reranker-v2-m3-GGUF:Q8_0', ['bge-reranker-v2-m3-Q8_0.gguf'], 'Q8_0', BGE_RERANKER_M3),
  m('ggml-org/Qwen3-Reranker-0.6B-Q8_0-GGUF:Q8_0', ['qwen3-reranker-0.6b-q8_0.gguf'], 'Q8_0', { ...QWEN3_0_6B, reranker: true } as SyntheticModelSpec)
]

const Q8_0 = GGML_TYPE.Q8_0
/** ggml_type ids beyond GGML_TYPE's (src/gguf/ggml-types.ts lists them all). */
const T = { Q5_0: 6, Q5_1: 7, Q5_K: 13, MXFP4: 39 } as const
const K_FALLBACK: Record<number, number> = { [GGML_TYPE.Q4_K]: T.Q5_0, [T.Q5_K]: T.Q5_1, [GGML_TYPE.Q6_K]: Q8_0 }

/** llama.cpp's use_more_bits: the first and last eighth of the layers, and every third one between. */
function moreBits(i: number, n: number): boolean {
  return i < n / 8 || i >= (7 * n) / 8 || (i - Math.floor(n / 8)) % 3 === 2
}

/** The type a quantization gives a tensor (1-D tensors, norms and biases stay F32). */
export function quantType(quant: RealQuant, name: string, dims: number[], layers: number): number {
  if (dims.length < 2 || /norm|bias|sinks|ffn_gate_inp|position_embd|token_types/.test(name)) return GGML_TYPE.F32
  const blockOk = (t: number): number => ((t === GGML_TYPE.Q4_K || t === T.Q5_K || t === GGML_TYPE.Q6_K) && dims[0]! % 256 !== 0 ? K_FALLBACK[t]! : t)
  const layer = Number(/^blk\.(\d+)\./.exec(name)?.[1] ?? -1)
  switch (quant) {
    case 'BF16':
      return GGML_TYPE.BF16
    case 'Q8_0':
      return Q8_0
    case 'Q6_K':
      return blockOk(name === 'output.weight' ? Q8_0 : GGML_TYPE.Q6_K)
    case 'MXFP4':
      return /_exps\./.test(name) ? T.MXFP4 : Q8_0
    case 'Q4_K_M':
    case 'Q5_K_M': {
      const base = quant === 'Q4_K_M' ? GGML_TYPE.Q4_K : T.Q5_K
      if (name === 'output.weight') return blockOk(GGML_TYPE.Q6_K)
      if (/attn_v\.weight$|ffn_down\.weight$|ffn_down_exps\.weight$/.test(name) && layer >= 0 && moreBits(layer, layers)) return blockOk(GGML_TYPE.Q6_K)
      return blockOk(base)
    }
  }
}

/** The model's shards as header-only sparse files in `dir`, and the Hub file specs that serve them. */
export async function writeRealModel(model: RealModel, dir: string): Promise<HubFileSpec[]> {
  const { embedding, reranker, ...spec } = model.spec as SyntheticModelSpec & { embedding?: boolean; reranker?: boolean }
  const layout = syntheticLayout(spec)
  const metadata: GgufKv[] = layout.metadata.filter((kv) => kv.key !== 'general.file_type')
  metadata.push({ key: 'general.file_type', type: GgufValueType.UINT32, value: FTYPE[model.quant] })
  // A Qwen3 embedding model pools its last token; a Qwen3 reranker ranks (its head is the LM head's yes/no rows).
  if (embedding) metadata.push({ key: `${spec.architecture}.pooling_type`, type: GgufValueType.UINT32, value: 3 })
  if (reranker) metadata.push({ key: `${spec.architecture}.pooling_type`, type: GgufValueType.UINT32, value: 4 })
  const tensors: TensorSpec[] = layout.tensors.map((t) => ({ name: t.name, dims: t.dims, type: quantType(model.quant, t.name, t.dims, spec.layers) }))
  const n = model.files.length
  const per = Math.ceil(tensors.length / n)
  await mkdir(dir, { recursive: true })
  const out: HubFileSpec[] = []
  for (let i = 0; i < n; i++) {
    const mine = tensors.slice(i * per, (i + 1) * per)
    const split: GgufKv[] =
      n > 1
        ? [
            { key: 'split.no', type: GgufValueType.UINT16, value: i },
            { key: 'split.count', type: GgufValueType.UINT16, value: n },
            { key: 'split.tensors.count', type: GgufValueType.INT32, value: tensors.length }
          ]
        : []
    const enc = encodeGgufHeader(i === 0 ? [...metadata, ...split] : split, mine, layout.alignment)
    const path = join(dir, model.files[i]!)
    await writeFile(path, enc.bytes)
    await truncate(path, enc.bytes.length + enc.dataBytes)
    // The Hub's sha256 of a file this size is never computed: one of its header stands in (served as the LFS oid).
    out.push({ path: model.files[i]!, localPath: path, sha256: createHash('sha256').update(enc.bytes).digest('hex') })
  }
  return out
}
