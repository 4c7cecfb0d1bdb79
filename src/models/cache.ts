// The Hugging Face Hub cache layout, shared with huggingface_hub, llama.cpp and transformers:
//   <cache>/models--<owner>--<name>/blobs/<oid>                       the bytes, named by LFS sha256 (or git oid)
//   <cache>/models--<owner>--<name>/snapshots/<commit>/<path>         relative symlink to ../../blobs/<oid>
//   <cache>/models--<owner>--<name>/refs/<revision>                   the commit a branch or tag pointed at
import { lstat, mkdir, readdir, readFile, rename, rm, stat, symlink, copyFile } from 'node:fs/promises'
import { dirname, join, relative, sep, posix } from 'node:path'
import { writeFileAtomic } from '../util/fs.js'

const REPO_FOLDER_PREFIX = 'models--'
const REPO_ID_SEPARATOR = '--'
/** Suffix of a blob being downloaded; such files never reach callers. */
export const INCOMPLETE_SUFFIX = '.incomplete'
const COMMIT_RE = /^[0-9a-f]{40}$/

export function isCommitHash(revision: string): boolean {
  return COMMIT_RE.test(revision)
}

/** `owner/name` → `models--owner--name`. */
function repoFolder(repo: string): string {
  return REPO_FOLDER_PREFIX + repo.split('/').join(REPO_ID_SEPARATOR)
}

export function repoCacheDir(cacheDir: string, repo: string): string {
  return join(cacheDir, repoFolder(repo))
}

/**
 * Where the lock guarding a blob's download lives: beside huggingface_hub's own `.locks/<repo folder>/` but under
 * a name of ours (its locks are files, ours are directories), so the two tools never trip over each other's.
 */
export function blobLockPath(cacheDir: string, repo: string, blobId: string): string {
  return join(cacheDir, '.locks', repoFolder(repo), `${blobId}.model-fit-gate.lock`)
}

export function blobPath(repoDir: string, blobId: string): string {
  return join(repoDir, 'blobs', blobId)
}

export function snapshotDir(repoDir: string, commit: string): string {
  return join(repoDir, 'snapshots', commit)
}

export function snapshotPath(repoDir: string, commit: string, repoPath: string): string {
  return join(snapshotDir(repoDir, commit), ...safeRepoPath(repoPath).split('/'))
}

/**
 * A repo path from the Hub listing is joined onto the cache dir: refuse anything that could escape it
 * (absolute paths, `..`, backslashes), as huggingface_hub does.
 */
export function safeRepoPath(repoPath: string): string {
  const parts = repoPath.split('/')
  if (repoPath === '' || repoPath.startsWith('/') || repoPath.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`refusing the repo path "${repoPath}": it would leave the cache folder`)
  }
  return repoPath
}

/** Size of the file at `path` (following symlinks), or null when it is missing or not a regular file. */
export async function fileSize(path: string): Promise<number | null> {
  try {
    const s = await stat(path)
    return s.isFile() ? s.size : null
  } catch {
    return null
  }
}

/**
 * Points snapshots/<commit>/<path> at the blob with a relative symlink. The link is made beside the target and
 * renamed over it, so a second process linking the same file at the same time never sees a half-made link.
 * Where symlinks are not allowed (Windows without developer mode) the blob is copied instead.
 */
export async function linkSnapshot(repoDir: string, commit: string, repoPath: string, blobId: string): Promise<string> {
  const pointer = snapshotPath(repoDir, commit, repoPath)
  const blob = blobPath(repoDir, blobId)
  await mkdir(dirname(pointer), { recursive: true })
  const tmp = `${pointer}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  const target = relative(dirname(pointer), blob).split(sep).join(posix.sep)
  try {
    await symlink(target, tmp)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err
    await copyFile(blob, tmp)
  }
  try {
    await rename(tmp, pointer)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
  return pointer
}

/** Records which commit a branch or tag resolved to (not for commit hashes, which name themselves). */
export async function writeRef(repoDir: string, revision: string, commit: string): Promise<void> {
  if (isCommitHash(revision) || revision === commit) return
  const path = join(repoDir, 'refs', ...revision.split('/'))
  let current: string | null = null
  try {
    current = (await readFile(path, 'utf8')).trim()
  } catch {
    // no ref yet
  }
  if (current !== commit) await writeFileAtomic(path, commit)
}

/** The commit a cached revision points at: the revision itself when it is a commit hash, else refs/<revision>. */
export async function readRef(repoDir: string, revision: string): Promise<string | null> {
  if (isCommitHash(revision)) return revision
  try {
    const commit = (await readFile(join(repoDir, 'refs', ...revision.split('/')), 'utf8')).trim()
    return isCommitHash(commit) ? commit : null
  } catch {
    return null
  }
}

/** Files of a cached snapshot (repo paths with `/`, sizes of their blobs), in path order; [] when absent. */
export async function listSnapshot(repoDir: string, commit: string): Promise<{ path: string; size: number }[]> {
  const root = snapshotDir(repoDir, commit)
  const out: { path: string; size: number }[] = []
  async function walk(dir: string, prefix: string): Promise<void> {
    let names: string[]
    try {
      names = (await readdir(dir)).sort()
    } catch {
      return
    }
    for (const name of names) {
      if (name.endsWith('.tmp') || name.endsWith(INCOMPLETE_SUFFIX)) continue
      const full = join(dir, name)
      const info = await lstat(full)
      if (info.isDirectory()) {
        await walk(full, `${prefix}${name}/`)
        continue
      }
      const size = await fileSize(full)
      if (size !== null) out.push({ path: `${prefix}${name}`, size })
    }
  }
  await walk(root, '')
  return out
}
