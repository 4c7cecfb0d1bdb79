// GGML tensor types and llama.cpp file types, as defined by the pinned llama.cpp source
// (ggml/include/ggml.h enum ggml_type, ggml/src/ggml.c type_traits, ggml-common.h block structs,
// include/llama.h enum llama_ftype). Ids are on-disk values: never renumber.

export interface GgmlTypeInfo {
  id: number
  /** Upper-case name as in the enum (GGML_TYPE_Q4_K → "Q4_K"). Used as map keys in profiles. */
  name: string
  /** Elements per block. */
  blockSize: number
  /** Bytes per block. */
  typeSize: number
}

const TYPES: readonly GgmlTypeInfo[] = [
  { id: 0, name: 'F32', blockSize: 1, typeSize: 4 },
  { id: 1, name: 'F16', blockSize: 1, typeSize: 2 },
  { id: 2, name: 'Q4_0', blockSize: 32, typeSize: 18 },
  { id: 3, name: 'Q4_1', blockSize: 32, typeSize: 20 },
  // 4 and 5 (Q4_2, Q4_3) were removed from ggml.
  { id: 6, name: 'Q5_0', blockSize: 32, typeSize: 22 },
  { id: 7, name: 'Q5_1', blockSize: 32, typeSize: 24 },
  { id: 8, name: 'Q8_0', blockSize: 32, typeSize: 34 },
  { id: 9, name: 'Q8_1', blockSize: 32, typeSize: 36 },
  { id: 10, name: 'Q2_K', blockSize: 256, typeSize: 84 },
  { id: 11, name: 'Q3_K', blockSize: 256, typeSize: 110 },
  { id: 12, name: 'Q4_K', blockSize: 256, typeSize: 144 },
  { id: 13, name: 'Q5_K', blockSize: 256, typeSize: 176 },
  { id: 14, name: 'Q6_K', blockSize: 256, typeSize: 210 },
  { id: 15, name: 'Q8_K', blockSize: 256, typeSize: 292 },
  { id: 16, name: 'IQ2_XXS', blockSize: 256, typeSize: 66 },
  { id: 17, name: 'IQ2_XS', blockSize: 256, typeSize: 74 },
  { id: 18, name: 'IQ3_XXS', blockSize: 256, typeSize: 98 },
  { id: 19, name: 'IQ1_S', blockSize: 256, typeSize: 50 },
  { id: 20, name: 'IQ4_NL', blockSize: 32, typeSize: 18 },
  { id: 21, name: 'IQ3_S', blockSize: 256, typeSize: 110 },
  { id: 22, name: 'IQ2_S', blockSize: 256, typeSize: 82 },
  { id: 23, name: 'IQ4_XS', blockSize: 256, typeSize: 136 },
  { id: 24, name: 'I8', blockSize: 1, typeSize: 1 },
  { id: 25, name: 'I16', blockSize: 1, typeSize: 2 },
  { id: 26, name: 'I32', blockSize: 1, typeSize: 4 },
  { id: 27, name: 'I64', blockSize: 1, typeSize: 8 },
  { id: 28, name: 'F64', blockSize: 1, typeSize: 8 },
  { id: 29, name: 'IQ1_M', blockSize: 256, typeSize: 56 },
  { id: 30, name: 'BF16', blockSize: 1, typeSize: 2 },
  // 31–33 (Q4_0_4_4 …) and 36–38 (IQ4_NL_4_4 …) were removed from GGUF files (runtime repacking instead).
  { id: 34, name: 'TQ1_0', blockSize: 256, typeSize: 54 },
  { id: 35, name: 'TQ2_0', blockSize: 256, typeSize: 66 },
  { id: 39, name: 'MXFP4', blockSize: 32, typeSize: 17 },
  { id: 40, name: 'NVFP4', blockSize: 64, typeSize: 36 },
  { id: 41, name: 'Q1_0', blockSize: 128, typeSize: 18 },
  { id: 42, name: 'Q2_0', blockSize: 64, typeSize: 18 }
]

export const GGML_TYPES: ReadonlyMap<number, GgmlTypeInfo> = new Map(TYPES.map((t) => [t.id, t]))
const BY_NAME: ReadonlyMap<string, GgmlTypeInfo> = new Map(TYPES.map((t) => [t.name, t]))

/** Ids used by name in code (writer, tests). */
export const GGML_TYPE = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q8_0: 8,
  Q4_K: 12,
  Q6_K: 14,
  BF16: 30
} as const

export function ggmlType(id: number): GgmlTypeInfo | undefined {
  return GGML_TYPES.get(id)
}

/** Case-insensitive lookup ("q8_0", "Q4_K", "bf16"). */
export function ggmlTypeByName(name: string): GgmlTypeInfo | undefined {
  return BY_NAME.get(name.toUpperCase())
}

export function ggmlTypeName(id: number): string {
  return GGML_TYPES.get(id)?.name ?? `UNKNOWN_${id}`
}

/**
 * Bytes of one row of `n` elements. Throws when the type is unknown or n is not a whole number of blocks
 * (the reader checks both first and reports them as input errors; here it is a programming error).
 */
export function rowBytes(type: number, n: number): number {
  const info = GGML_TYPES.get(type)
  if (!info) throw new RangeError(`unknown GGML type ${type}`)
  if (n % info.blockSize !== 0) {
    throw new RangeError(`${n} elements is not a multiple of the ${info.name} block size ${info.blockSize}`)
  }
  return (n / info.blockSize) * info.typeSize
}

/** Bytes of a whole tensor: rows of dims[0] elements times the product of the other dims. */
export function tensorBytes(type: number, dims: readonly number[]): number {
  const [first = 1, ...rest] = dims
  let rows = 1
  for (const d of rest) rows *= d
  return rowBytes(type, first) * rows
}

// llama_ftype (general.file_type). Names drop the LLAMA_FTYPE_ / MOSTLY_ prefixes, as users spell quants.
const FILE_TYPES: ReadonlyMap<number, string> = new Map([
  [0, 'F32'], // ALL_F32
  [1, 'F16'],
  [2, 'Q4_0'],
  [3, 'Q4_1'],
  [4, 'Q4_1_SOME_F16'], // removed from llama.cpp, still found in old files
  [7, 'Q8_0'],
  [8, 'Q5_0'],
  [9, 'Q5_1'],
  [10, 'Q2_K'],
  [11, 'Q3_K_S'],
  [12, 'Q3_K_M'],
  [13, 'Q3_K_L'],
  [14, 'Q4_K_S'],
  [15, 'Q4_K_M'],
  [16, 'Q5_K_S'],
  [17, 'Q5_K_M'],
  [18, 'Q6_K'],
  [19, 'IQ2_XXS'],
  [20, 'IQ2_XS'],
  [21, 'Q2_K_S'],
  [22, 'IQ3_XS'],
  [23, 'IQ3_XXS'],
  [24, 'IQ1_S'],
  [25, 'IQ4_NL'],
  [26, 'IQ3_S'],
  [27, 'IQ3_M'],
  [28, 'IQ2_S'],
  [29, 'IQ2_M'],
  [30, 'IQ4_XS'],
  [31, 'IQ1_M'],
  [32, 'BF16'],
  [33, 'Q4_0_4_4'], // removed: runtime repacking of Q4_0
  [34, 'Q4_0_4_8'],
  [35, 'Q4_0_8_8'],
  [36, 'TQ1_0'],
  [37, 'TQ2_0'],
  [38, 'MXFP4_MOE'],
  [39, 'NVFP4'],
  [40, 'Q1_0'],
  [41, 'Q2_0'],
  [1024, 'GUESSED']
])

/** general.file_type → "Q4_K_M"; an id this build does not know becomes "FTYPE_<id>" rather than failing. */
export function llamaFileTypeName(id: number): string {
  return FILE_TYPES.get(id) ?? `FTYPE_${id}`
}

export const LLAMA_FILE_TYPES: ReadonlyMap<number, string> = FILE_TYPES
