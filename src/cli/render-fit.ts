// The `fit` command's text output: one block per model with its memory fit, the predicted scenarios with ranges,
// and the workload scores. Pure: rows in, text out.

import type { Prediction } from '../contracts/prediction.js'
import type { ModelProfile } from '../contracts/profile.js'
import { scoreWorkloads } from '../fit/score.js'

export interface FitRow {
  ref: string
  profile: ModelProfile
  prediction: Prediction | null
}

const MIB = 1024 * 1024
const GIB = 1024 * MIB

function bytes(n: number): string {
  return n >= GIB ? `${(n / GIB).toFixed(2)} GiB` : `${(n / MIB).toFixed(1)} MiB`
}

function num(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)
}

function profileLine(p: ModelProfile): string {
  const moe = p.expert_count > 0 ? `, MoE ${p.expert_used_count}/${p.expert_count} experts` : ''
  const params = p.param_count >= 1e9 ? `${(p.param_count / 1e9).toFixed(2)} B` : `${(p.param_count / 1e6).toFixed(1)} M`
  return `${p.architecture} ${p.file_type ?? '?'} · ${params} params · ${bytes(p.tensor_bytes)} · ${p.layers} layers × ${p.embedding_length} · heads ${p.heads}/${p.kv_heads} · vocab ${p.vocab_size} · ctx ${p.context_length}${moe} · ${p.model_class}`
}

function pad(cells: string[], widths: number[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')
}

/** Text for `fit` (and `profile`, with prediction null). Deterministic. */
export function renderFitTable(rows: readonly FitRow[]): string {
  const out: string[] = []
  for (const row of rows) {
    out.push(row.ref)
    out.push(`  ${profileLine(row.profile)}`)
    const pred = row.prediction
    if (!pred) {
      out.push('')
      continue
    }
    const f = pred.fit
    out.push(`  memory: ${f.status} — ${f.reason}`)
    // Split between devices: each one's share, as llama.cpp places the buffers.
    if (f.devices && f.devices.length > 1) {
      for (const d of f.devices) {
        const budget = d.budget_bytes === null ? '' : ` of ${bytes(d.budget_bytes)}`
        out.push(`    ${d.device}: ${d.layers ?? 0} layers · weights ${bytes(d.weights_bytes)} + context ${bytes(d.context_bytes)} + compute ${bytes(d.compute_bytes)}${budget}`)
      }
    }
    if (f.gpu_layers_that_fit !== null && f.status === 'does-not-fit') out.push(`  partial offload: ${f.gpu_layers_that_fit} of ${row.profile.layers} layers fit on the GPU`)
    if (pred.scenarios.length > 0) {
      const widths = [15, 12, 24]
      out.push(`  ${pad(['scenario', 'predicted', 'range'], widths)}`)
      for (const s of pred.scenarios) {
        out.push(`  ${pad([s.scenario, `${num(s.predicted)} ${s.unit}`, `${num(s.predicted_range[0])} – ${num(s.predicted_range[1])}`], widths)}`)
      }
    }
    for (const [scenario, why] of Object.entries(pred.not_predicted)) out.push(`  ${scenario}: not predicted (${why})`)
    // Only the workloads this kind of model can serve (a chat model is not scored as a reranker).
    const scores = scoreWorkloads(row.profile, pred).filter((s) => !s.note.startsWith('needs a '))
    if (scores.length > 0) out.push(`  workloads: ${scores.map((s) => `${s.workload} ${s.score}${s.note ? ` (${s.note})` : ''}`).join(', ')}`)
    out.push('')
  }
  return out.join('\n')
}
