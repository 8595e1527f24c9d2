/** Deterministic randomness: every value derives from (seed, stream, index), so order i of a
 * million-order shop can be produced without producing the 999,999 before it. */
export type Rng = {
  next(): number
  int(min: number, max: number): number
  pick<T>(items: readonly T[]): T
  chance(p: number): boolean
}

function mix32(a: number): number {
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b)
  a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35)
  return (a ^ (a >>> 16)) >>> 0
}

/** Hashes a seed, a stream name and an index into a 32-bit state. */
export function hashKey(seed: number, stream: string, index: number): number {
  let h = mix32(seed ^ 0x9e3779b9)
  for (let i = 0; i < stream.length; i++) h = mix32(h ^ stream.charCodeAt(i))
  h = mix32(h ^ (index & 0xffffffff))
  return mix32(h ^ Math.floor(index / 2 ** 32))
}

/** mulberry32 seeded from (seed, stream, index). */
export function createRng(seed: number, stream: string, index = 0): Rng {
  let s = hashKey(seed, stream, index)
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => {
      const v = items[Math.floor(next() * items.length)]
      if (v === undefined) throw new Error('pick from empty list')
      return v
    },
    chance: (p) => next() < p,
  }
}
