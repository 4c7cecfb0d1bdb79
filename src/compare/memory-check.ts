// The memory estimate against the buffers llama.cpp logged (bench/llama-log.ts parses them): a comparison, like the
// speed verdicts beside it. Pure.

import type { LlamaBufferSizes } from '../contracts/observation.js'
import type { MemoryFit } from '../contracts/prediction.js'
import type { LlamaMemoryCheck } from '../contracts/verdict.js'

/** Error of the memory estimate against llama.cpp's numbers, per buffer, in % (null where the log lacks one). */
export function memoryEstimateErrors(
  fit: MemoryFit,
  logged: LlamaBufferSizes
): { weightsPct: number | null; kvPct: number | null; statePct: number | null; computePct: number | null } {
  const pct = (est: number, obs: number | null): number | null => (obs && obs > 0 ? (100 * (est - obs)) / obs : null)
  // A model without KV cache or state logs no buffer for it: an estimate of 0 then matches; one above 0 does not.
  const pctOrAbsent = (est: number, obs: number | null): number | null => (obs === null && est > 0 ? 100 : pct(est, obs))
  // With repacked copies llama.cpp's mapped buffer spans only the range of the tensors it still serves, which may
  // leave repacked ones at either end out, and which ones it repacks is the CPU's choice: no logged figure is the
  // file's weights, so they are shown, not compared.
  return {
    weightsPct: logged.repacked_model_bytes !== null ? null : pct(fit.weights_bytes, logged.model_bytes),
    kvPct: pctOrAbsent(fit.kv_cache_bytes, logged.kv_bytes),
    statePct: pctOrAbsent(fit.recurrent_state_bytes, logged.rs_bytes),
    // The server reserves one logits row per slot: its own shape is what its log is compared with.
    computePct: pct(fit.server_compute_bytes ?? fit.compute_bytes, logged.compute_bytes)
  }
}

/** The report's view: the estimate's model, KV and compute bytes beside llama.cpp's, with the error of each. */
export function llamaMemoryCheck(fit: MemoryFit, logged: LlamaBufferSizes): LlamaMemoryCheck {
  const e = memoryEstimateErrors(fit, logged)
  const round1 = (x: number | null): number | null => (x === null ? null : Math.round(x * 10) / 10)
  return {
    logged: {
      model_bytes: logged.model_bytes,
      kv_bytes: logged.kv_bytes,
      rs_bytes: logged.rs_bytes,
      compute_bytes: logged.compute_bytes,
      repacked_model_bytes: logged.repacked_model_bytes
    },
    estimated: { model_bytes: fit.weights_bytes, kv_bytes: fit.kv_cache_bytes, rs_bytes: fit.recurrent_state_bytes, compute_bytes: fit.server_compute_bytes ?? fit.compute_bytes },
    error_pct: { model: round1(e.weightsPct), kv: round1(e.kvPct), state: round1(e.statePct), compute: round1(e.computePct) }
  }
}
