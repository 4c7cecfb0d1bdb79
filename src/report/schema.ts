import type { Report } from '../contracts/report.js'
import { emptyLayerPlan } from '../gguf/layers.js'
import { jsonDocument, upgradeToSnakeKeys } from '../util/json-schema.js'
import reportSchema from './report.schema.json' with { type: 'json' }

type Doc = Record<string, unknown>

/**
 * Version 2 → 3: version 3 profiles carry the layer plan (sliding, recurrent and MLA layers) and the shared experts'
 * width, and fits the recurrent state. A version 2 report costed every layer as full attention with no state and no
 * shared experts; the plan is rebuilt as exactly that from its own fields and says so in its assumptions. Its memory
 * checks had no state and no repacked-weights figures.
 */
export function upgradeLayerPlan(doc: Doc): Doc {
  const models = Array.isArray(doc.models) ? (doc.models as Doc[]) : []
  const upgraded = models.map((m) => {
    const p = m.profile as Doc | null | undefined
    const f = m.fit as Doc | null | undefined
    const out: Doc = { ...m }
    if (p && typeof p === 'object') {
      const num = (k: string): number => (typeof p[k] === 'number' ? (p[k] as number) : 0)
      const kvElements = num('kv_bytes_per_token_f16') / 2
      const kWidth = num('key_length')
      const vWidth = num('value_length')
      const kShare = kWidth + vWidth > 0 ? kWidth / (kWidth + vWidth) : 0.5
      const layers = kvElements > 0 ? num('layers') : 0
      out.profile = {
        ...p,
        shared_expert_feed_forward_length: 0,
        layer_plan: {
          ...emptyLayerPlan(),
          full_attention_layers: layers,
          full_k_elements: kvElements * kShare,
          full_v_elements: kvElements * (1 - kShare),
          v_elements_max: num('kv_heads') * vWidth,
          full_query_elements: layers * num('heads') * kWidth,
          full_attention_flops_per_position: num('attention_flops_per_token_per_depth'),
          // Version 2 costed every model's feed-forward as dense (MoE: its used experts).
          dense_ffn_layers: num('expert_count') > 0 ? 0 : num('layers'),
          assumptions: ['read from a schema_version 2 report: every layer costed as full attention, as that version did']
        }
      }
    }
    if (f && typeof f === 'object') out.fit = { recurrent_state_bytes: 0, ...f }
    const mem = m.llama_memory as Record<string, Doc> | undefined
    if (mem && typeof mem === 'object') {
      out.llama_memory = {
        ...mem,
        logged: { rs_bytes: null, repacked_model_bytes: null, ...mem.logged },
        estimated: { rs_bytes: 0, ...mem.estimated },
        error_pct: { state: null, ...mem.error_pct }
      }
    }
    return out
  })
  return { ...doc, schema_version: 3, models: upgraded }
}

/** The report format this build reads and writes. */
export const REPORT_SCHEMA_VERSION = 3

const reportDocument = jsonDocument<Report>(reportSchema, {
  what: 'report',
  version: REPORT_SCHEMA_VERSION,
  upgrades: { 1: upgradeToSnakeKeys, 2: upgradeLayerPlan },
  versionHint: `by this version of model-fit-gate (it reads ${REPORT_SCHEMA_VERSION})`
})

/**
 * Checks an object against report.schema.json and returns it typed. A mismatch is an InputError naming `source`
 * and the JSON path: "report.json: models[2].scenarios[0].ratio: must be number or null, got "fast"".
 */
export const validateReport = (obj: unknown, source: string): Report => reportDocument.validate(obj, source)

/** Parses report JSON text (as read from a file or an artifact) and validates it. */
export const parseReport = (text: string, source: string): Report => reportDocument.parse(text, source)

/** Validated, deterministic JSON (sorted keys, trailing newline): the bytes written to report.json. */
export const serializeReport = (report: Report, source = 'report'): string => reportDocument.serialize(report, source)
