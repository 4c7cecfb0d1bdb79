// GGUF container constants (ggml/include/gguf.h, docs/gguf.md of the pinned llama.cpp).

/** "GGUF" as read little-endian from the first 4 bytes. */
export const GGUF_MAGIC = 0x46554747
export const GGUF_VERSION_CURRENT = 3
export const GGUF_DEFAULT_ALIGNMENT = 32
export const GGUF_KEY_ALIGNMENT = 'general.alignment'

export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12
} as const
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType]

/** Bytes of a fixed-size value type; strings and arrays are variable (undefined). */
export const GGUF_FIXED_SIZE: Readonly<Record<number, number>> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8
}

export const GGUF_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'uint8',
  1: 'int8',
  2: 'uint16',
  3: 'int16',
  4: 'uint32',
  5: 'int32',
  6: 'float32',
  7: 'bool',
  8: 'string',
  9: 'array',
  10: 'uint64',
  11: 'int64',
  12: 'float64'
}

export type GgufScalar = number | bigint | boolean | string

/**
 * An array value. Small arrays keep their items; large ones (tokenizer tokens and merges: 150k+ strings) keep
 * only their length so a header read stays small — `values` is null then.
 */
export interface GgufArray {
  itemType: GgufValueType
  length: number
  values: GgufScalar[] | null
}

export type GgufValue = GgufScalar | GgufArray

export function isGgufArray(v: GgufValue | undefined): v is GgufArray {
  return typeof v === 'object' && v !== null
}

/** A metadata entry with its explicit on-disk type, as the writer takes it. */
export type GgufKv =
  | { key: string; type: Exclude<GgufValueType, 8 | 9>; value: number | bigint | boolean }
  | { key: string; type: 8; value: string }
  | { key: string; type: 9; itemType: GgufValueType; value: readonly GgufScalar[] }

export interface GgufTensorInfo {
  name: string
  /** ne[0] first: the row length. */
  dims: number[]
  type: number
  /** Offset relative to the start of the data section (dataOffset). */
  offset: number
}

export interface GgufHeader {
  version: number
  metadata: Record<string, GgufValue>
  tensors: GgufTensorInfo[]
  alignment: number
  /** Absolute file offset where tensor data starts. */
  dataOffset: number
  fileSize: number
}

export function alignUp(n: number, alignment: number): number {
  const r = n % alignment
  return r === 0 ? n : n + alignment - r
}
