// Manifest → model files: a manifest line parsed, and a model whose bytes are on disk.

/** One line of a manifest, parsed. `line` is 1-based, `file` the manifest path (or '<input>'). */
export type ModelRef =
  | { kind: 'hf'; ref: string; repo: string; quant?: string; revision?: string; file: string; line: number }
  | { kind: 'local'; ref: string; path: string; file: string; line: number }
  /** An http(s) URL to a .gguf (MODEL arguments only; manifests list Hub refs and paths). */
  | { kind: 'url'; ref: string; url: string; file: string; line: number }

/** A model whose bytes are on disk (all shards, first one first). */
export interface ResolvedModel {
  ref: string
  paths: string[]
}
