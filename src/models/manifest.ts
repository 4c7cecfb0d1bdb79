import { isAbsolute, resolve } from 'node:path'
import type { ModelRef } from '../contracts/models.js'
import { InputError } from '../util/errors.js'

/** A model given as an http(s) URL to a .gguf file (CLI arguments only; manifests list Hub refs and paths). */
export type UrlModelRef = Extract<ModelRef, { kind: 'url' }>

/** Anything a MODEL argument can name. */
export type ModelArg = ModelRef

/** The `file` of refs that came from a command line or an action input rather than a manifest file. */
export const INLINE_SOURCE = '<input>'

// Hub repo ids: `owner/name`, each part starting with a letter or digit (the Hub's own rule).
const REPO_PART = '[A-Za-z0-9][A-Za-z0-9._-]*'
// Quant tags as llama.cpp matches them inside file names: Q4_K_M, IQ4_XS, BF16, UD-Q4_K_XL, …
const QUANT_TAG = '[A-Za-z0-9][A-Za-z0-9._-]*'
// Branches, tags, commits, and `refs/pr/N`.
const REVISION = '[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*'
const HF_REF_RE = new RegExp(`^(${REPO_PART}/${REPO_PART})(?::(${QUANT_TAG}))?(?:@(${REVISION}))?$`)
const GGUF_SUFFIX_RE = /\.gguf$/i
const URL_RE = /^https?:\/\//i
const NAMED_KEYS = ['ref', 'path'] as const

/**
 * Parses a manifest (`--models-file`, action input `models`, corpora/*.txt). Each line is one of
 * `owner/repo[:QUANT][@revision]`, a path ending in `.gguf` (relative to `baseDir`, the manifest's folder),
 * or `ref=NAME,path=PATH`; blank lines and `#` comments are skipped. Anything else is an InputError with the line.
 */
export function parseManifest(text: string, fileName: string, baseDir: string): ModelRef[] {
  const refs: ModelRef[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const entry = stripComment(lines[i] ?? '')
    if (entry === '') continue
    refs.push(parseEntry(entry, fileName, i + 1, baseDir))
  }
  return refs
}

/**
 * One MODEL argument of the CLI: a local path ending in `.gguf`, `owner/repo[:QUANT][@revision]`, or an
 * http(s) URL to a .gguf file. `source` names where it came from in errors (a flag, an input).
 */
export function parseModelArg(arg: string, cwd: string, source = INLINE_SOURCE, line = 1): ModelArg {
  const value = arg.trim()
  if (URL_RE.test(value)) {
    let url: URL
    try {
      url = new URL(value)
    } catch {
      throw new InputError(source, `line ${line}`, `"${value}" is not a valid URL`)
    }
    if (!GGUF_SUFFIX_RE.test(url.pathname)) {
      throw new InputError(source, `line ${line}`, `the URL "${value}" does not point at a .gguf file`)
    }
    return { kind: 'url', ref: value, url: url.toString(), file: source, line }
  }
  return parseEntry(value, source, line, cwd)
}

function parseEntry(entry: string, file: string, line: number, baseDir: string): ModelRef {
  if (entry.startsWith('ref=') || entry.startsWith('path=')) return parseNamedLocal(entry, file, line, baseDir)
  if (URL_RE.test(entry)) {
    throw new InputError(file, `line ${line}`, `"${entry}" is a URL: manifests list owner/repo:QUANT refs and local .gguf paths`)
  }
  if (GGUF_SUFFIX_RE.test(entry)) {
    return { kind: 'local', ref: entry, path: resolvePath(baseDir, entry), file, line }
  }
  const hf = HF_REF_RE.exec(entry)
  if (hf) {
    const [, repo, quant, revision] = hf
    return {
      kind: 'hf',
      ref: entry,
      repo: repo as string,
      ...(quant ? { quant } : {}),
      ...(revision ? { revision } : {}),
      file,
      line
    }
  }
  throw new InputError(
    file,
    `line ${line}`,
    `"${entry}" is not a model: expected owner/repo:QUANT[@revision], a path ending in .gguf, or ref=NAME,path=PATH`
  )
}

function parseNamedLocal(entry: string, file: string, line: number, baseDir: string): ModelRef {
  const fields: Partial<Record<(typeof NAMED_KEYS)[number], string>> = {}
  for (const part of entry.split(',')) {
    const eq = part.indexOf('=')
    const key = (eq < 0 ? part : part.slice(0, eq)).trim()
    const value = eq < 0 ? '' : part.slice(eq + 1).trim()
    if (!(NAMED_KEYS as readonly string[]).includes(key)) {
      throw new InputError(file, `line ${line}`, `unknown key "${key}" (expected ref=NAME,path=PATH)`)
    }
    const k = key as (typeof NAMED_KEYS)[number]
    if (fields[k] !== undefined) throw new InputError(file, `line ${line}`, `"${k}" is given twice`)
    if (value === '') throw new InputError(file, `line ${line}`, `"${k}" is empty`)
    fields[k] = value
  }
  if (fields.ref === undefined || fields.path === undefined) {
    throw new InputError(file, `line ${line}`, 'expected both ref=NAME and path=PATH')
  }
  if (!GGUF_SUFFIX_RE.test(fields.path)) {
    throw new InputError(file, `line ${line}`, `path "${fields.path}" does not end in .gguf`)
  }
  return { kind: 'local', ref: fields.ref, path: resolvePath(baseDir, fields.path), file, line }
}

/** Drops a whole-line `# comment` or a trailing ` # comment` (a `#` after whitespace), then trims. */
function stripComment(raw: string): string {
  const trimmed = raw.trim()
  if (trimmed.startsWith('#')) return ''
  const hash = trimmed.search(/\s#/)
  return (hash < 0 ? trimmed : trimmed.slice(0, hash)).trim()
}

function resolvePath(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path)
}
