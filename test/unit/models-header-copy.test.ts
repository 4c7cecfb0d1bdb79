// A Hub model's header-only copy: each shard's header at the start of a sparse file of the shard's size, under the
// shard's own name (llama.cpp finds a split model's shards by name), costing about the header on disk.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { mkdtemp, open, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { keepsSparseFiles, writeHeaderOnlyCopy } from '../../src/models/header-copy.js'

let dir = ''
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mfg-header-copy-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('header-only copies', () => {
  test('each shard under its own name, its header first, at its real size, the rest a hole', async () => {
    const header = new Uint8Array(4096).fill(7)
    const size = 3 * 1024 ** 3
    const names = ['m-00001-of-00002.gguf', 'm-00002-of-00002.gguf']
    if (!(await keepsSparseFiles(dir))) {
      // A filesystem without holes would write the whole size: refused, naming the directory.
      await expect(writeHeaderOnlyCopy(join(dir, 'model'), names.map((name) => ({ name, header, fileBytes: size })), dir)).rejects.toThrow(/does not keep sparse files/)
      return
    }
    const first = await writeHeaderOnlyCopy(join(dir, 'model'), names.map((name) => ({ name, header, fileBytes: size })), dir)
    expect(first).toBe(join(dir, 'model', names[0]!))
    for (const n of names) {
      const st = await stat(join(dir, 'model', n))
      expect(st.size).toBe(size)
      expect(st.blocks * 512).toBeLessThan(1024 * 1024)
      const fd = await open(join(dir, 'model', n), 'r')
      const head = Buffer.alloc(4097)
      await fd.read(head, 0, head.length, 0)
      await fd.close()
      expect([...head.subarray(4094)]).toEqual([7, 7, 0])
    }
  })

  test('a shard name that is not a plain file name is refused, as is an empty list', async () => {
    await expect(writeHeaderOnlyCopy(join(dir, 'bad'), [{ name: '../escape.gguf', header: new Uint8Array(8), fileBytes: 8 }], dir)).rejects.toThrow(/not a plain file name/)
    await expect(writeHeaderOnlyCopy(join(dir, 'none'), [], dir)).rejects.toThrow(/no shard headers/)
  })
})
