// Prompts for the server scenarios, as token ids: exact lengths without a tokenizer round trip, and the same ids
// for the same seed on every machine. Pure.

/** Ids below this are skipped: vocabularies put BOS/EOS/PAD/UNK and other control tokens at the start. */
export const FIRST_PROMPT_TOKEN_ID = 10

/** splitmix32: a small, well-mixed, deterministic generator (same sequence on every platform). */
function splitmix32(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x9e3779b9) >>> 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

/**
 * `length` token ids in [FIRST_PROMPT_TOKEN_ID, vocabSize), drawn deterministically from `seed`. Different seeds
 * give unrelated prompts, so a prompt cache matches at most a token or two of one against another.
 */
export function promptTokens(length: number, vocabSize: number, seed: number): number[] {
  if (!Number.isInteger(length) || length < 0) throw new Error(`prompt length must be an integer ≥ 0, got ${length}`)
  if (!Number.isInteger(vocabSize) || vocabSize <= FIRST_PROMPT_TOKEN_ID + 1) {
    throw new Error(`vocabSize must be an integer > ${FIRST_PROMPT_TOKEN_ID + 1}, got ${vocabSize}`)
  }
  const range = vocabSize - FIRST_PROMPT_TOKEN_ID
  const next = splitmix32(seed)
  const out = new Array<number>(length)
  for (let i = 0; i < length; i++) out[i] = FIRST_PROMPT_TOKEN_ID + (next() % range)
  return out
}

/**
 * Seeds for run `index` of a scenario that never collide with another scenario's or another run's, so every run
 * gets a fresh prompt (first_token must not hit a cached prefix; kv_warm_reuse must prime a prefix of its own).
 */
export function promptSeed(scenarioSalt: number, index: number, part = 0): number {
  return (Math.imul(scenarioSalt, 0x01000193) ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(part + 1, 0x85ebca77)) >>> 0
}
