import { describe, expect, test } from '@jest/globals'
import { parseShard, selectShard } from '../../src/models/shard.js'

const items = Array.from({ length: 23 }, (_, i) => ({ ref: `org/model-${(i * 7919) % 101}`, line: i + 1 }))

describe('selectShard', () => {
  test('shards of n are disjoint, cover every item, and differ in size by at most one', () => {
    for (const n of [1, 2, 3, 5, 23, 30]) {
      const shards = Array.from({ length: n }, (_, k) => selectShard(items, `${k + 1}/${n}`))
      const all = shards.flat()
      expect(all).toHaveLength(items.length)
      expect(new Set(all.map((i) => i.line)).size).toBe(items.length)
      const sizes = shards.map((s) => s.length)
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
    }
  })

  test('does not depend on manifest order, and keeps each shard in manifest order', () => {
    const reversed = [...items].reverse()
    const a = selectShard(items, '2/3').map((i) => i.ref).sort()
    const b = selectShard(reversed, '2/3').map((i) => i.ref).sort()
    expect(a).toEqual(b)
    const lines = selectShard(items, '2/3').map((i) => i.line)
    expect(lines).toEqual([...lines].sort((x, y) => x - y))
  })

  test('items with the same ref stay together', () => {
    const dup = [{ ref: 'x' }, { ref: 'y' }, { ref: 'x' }]
    expect(selectShard(dup, '1/2')).toEqual([{ ref: 'x' }, { ref: 'x' }])
    expect(selectShard(dup, '2/2')).toEqual([{ ref: 'y' }])
  })

  test('a malformed k/n is an input error naming the input', () => {
    expect(parseShard(' 2 / 3 ')).toEqual({ index: 2, count: 3 })
    expect(() => selectShard(items, '3', 'input shard')).toThrow('input shard: expected k/n such as 2/3, got "3"')
    expect(() => selectShard(items, '0/3')).toThrow('shard: shard index must be 1 to 3, got 0')
    expect(() => selectShard(items, '4/3')).toThrow('shard index must be 1 to 3, got 4')
    expect(() => selectShard(items, '1/0')).toThrow('shard count must be 1 to 256, got 0')
    expect(() => selectShard(items, '1/2/3')).toThrow(/expected k\/n/)
  })
})
