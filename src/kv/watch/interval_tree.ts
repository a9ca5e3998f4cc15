/**
 * An interval tree over string keys: a height-balanced (AVL) binary search tree of half-open
 * intervals [lo, hi), ordered by (lo, hi), where each node also records the largest `hi` of its
 * subtree. `stab(p)` visits every interval that contains the point p, looking at O((k + 1) log n)
 * nodes for k matches.
 *
 * Keys are strings whose code units are bytes (see keyString in ../range.ts), so string order is
 * byte order. `hi === null` means "no upper bound". Equal intervals share one node holding a set
 * of values, as etcd's watcher group does, so n counts distinct intervals.
 *
 * Written here rather than taken from a library: the packages available keep numeric intervals
 * or closed intervals only, and the tree is small enough to check completely against a naive
 * scan (test/kv/watch/interval_tree.test.ts).
 *
 * Invariants, kept by every insert and delete: BST order by (lo, hi); for every node,
 * |height(left) - height(right)| <= 1; node.maxHi = max(node.hi, left.maxHi, right.maxHi) with
 * null greater than every string.
 */

/** An exclusive upper bound; null = unbounded. */
export type UpperBound = string | null

interface Node<V> {
  readonly lo: string
  readonly hi: UpperBound
  readonly values: Set<V>
  left: Node<V> | undefined
  right: Node<V> | undefined
  height: number
  maxHi: UpperBound
}

/** Compares two upper bounds; null (unbounded) is the greatest. */
function compareHi(a: UpperBound, b: UpperBound): number {
  if (a === b) return 0
  if (a === null) return 1
  if (b === null) return -1
  return a < b ? -1 : 1
}

function compareInterval(lo: string, hi: UpperBound, n: Node<unknown>): number {
  if (lo !== n.lo) return lo < n.lo ? -1 : 1
  return compareHi(hi, n.hi)
}

const height = (n: Node<unknown> | undefined): number => n?.height ?? 0

function maxOf(a: UpperBound, b: UpperBound): UpperBound {
  return compareHi(a, b) >= 0 ? a : b
}

/** Recomputes a node's height and maxHi from its children. */
function update<V>(n: Node<V>): Node<V> {
  n.height = 1 + Math.max(height(n.left), height(n.right))
  let m = n.hi
  if (n.left !== undefined) m = maxOf(m, n.left.maxHi)
  if (n.right !== undefined) m = maxOf(m, n.right.maxHi)
  n.maxHi = m
  return n
}

function rotateRight<V>(n: Node<V>): Node<V> {
  const l = n.left!
  n.left = l.right
  l.right = update(n)
  return update(l)
}

function rotateLeft<V>(n: Node<V>): Node<V> {
  const r = n.right!
  n.right = r.left
  r.left = update(n)
  return update(r)
}

/** Restores the AVL balance of `n`, whose subtrees are balanced and differ in height by <= 2. */
function balance<V>(n: Node<V>): Node<V> {
  update(n)
  const bf = height(n.left) - height(n.right)
  if (bf > 1) {
    if (height(n.left!.left) < height(n.left!.right)) n.left = rotateLeft(n.left!)
    return rotateRight(n)
  }
  if (bf < -1) {
    if (height(n.right!.right) < height(n.right!.left)) n.right = rotateRight(n.right!)
    return rotateLeft(n)
  }
  return n
}

/** Removes the leftmost node of a subtree; returns the new subtree and the removed node. */
function removeMin<V>(n: Node<V>): [Node<V> | undefined, Node<V>] {
  if (n.left === undefined) return [n.right, n]
  const [left, min] = removeMin(n.left)
  n.left = left
  return [balance(n), min]
}

export class IntervalTree<V> {
  private root: Node<V> | undefined
  private count = 0

  /** The number of distinct intervals held. */
  get size(): number {
    return this.count
  }

  /** Adds `value` to the interval [lo, hi). */
  insert(lo: string, hi: UpperBound, value: V): void {
    this.root = this.insertAt(this.root, lo, hi, value)
  }

  /** Removes `value` from [lo, hi); the interval goes once its last value is gone. */
  delete(lo: string, hi: UpperBound, value: V): boolean {
    const found = this.find(lo, hi)
    if (found === undefined || !found.values.delete(value)) return false
    if (found.values.size === 0) this.root = this.removeAt(this.root, lo, hi)
    return true
  }

  /**
   * Calls `visit` with every value whose interval contains `point`. Returns the number of tree
   * nodes it looked at, at most O((k + 1) log n) for k matching intervals (tests check it).
   */
  stab(point: string, visit: (value: V) => void): number {
    return this.stabAt(this.root, point, visit)
  }

  /** Every interval with its values, in order (for tests and diagnostics). */
  entries(): Array<{lo: string, hi: UpperBound, values: V[]}> {
    const out: Array<{lo: string, hi: UpperBound, values: V[]}> = []
    const walk = (n: Node<V> | undefined): void => {
      if (n === undefined) return
      walk(n.left)
      out.push({lo: n.lo, hi: n.hi, values: [...n.values]})
      walk(n.right)
    }
    walk(this.root)
    return out
  }

  /** Checks every invariant of the tree; throws naming the first broken one (for tests). */
  check(): void {
    const walk = (n: Node<V> | undefined): {h: number, max: UpperBound | undefined} => {
      if (n === undefined) return {h: 0, max: undefined}
      const l = walk(n.left)
      const r = walk(n.right)
      if (Math.abs(l.h - r.h) > 1) throw new Error(`unbalanced at [${n.lo}, ${n.hi})`)
      if (n.height !== 1 + Math.max(l.h, r.h)) throw new Error(`wrong height at [${n.lo}, ${n.hi})`)
      if (n.left !== undefined && compareInterval(n.left.lo, n.left.hi, n) >= 0) throw new Error('order broken')
      if (n.right !== undefined && compareInterval(n.right.lo, n.right.hi, n) <= 0) throw new Error('order broken')
      let max: UpperBound = n.hi
      for (const m of [l.max, r.max]) if (m !== undefined) max = maxOf(max, m)
      if (n.maxHi !== max) throw new Error(`wrong maxHi at [${n.lo}, ${n.hi})`)
      if (n.values.size === 0) throw new Error(`empty interval [${n.lo}, ${n.hi}) kept`)
      return {h: n.height, max}
    }
    walk(this.root)
  }

  private find(lo: string, hi: UpperBound): Node<V> | undefined {
    let n = this.root
    while (n !== undefined) {
      const c = compareInterval(lo, hi, n)
      if (c === 0) return n
      n = c < 0 ? n.left : n.right
    }
    return undefined
  }

  private insertAt(n: Node<V> | undefined, lo: string, hi: UpperBound, value: V): Node<V> {
    if (n === undefined) {
      this.count++
      return {lo, hi, values: new Set([value]), left: undefined, right: undefined, height: 1, maxHi: hi}
    }
    const c = compareInterval(lo, hi, n)
    if (c === 0) {
      n.values.add(value)
      return n
    }
    if (c < 0) n.left = this.insertAt(n.left, lo, hi, value)
    else n.right = this.insertAt(n.right, lo, hi, value)
    return balance(n)
  }

  private removeAt(n: Node<V> | undefined, lo: string, hi: UpperBound): Node<V> | undefined {
    if (n === undefined) return undefined
    const c = compareInterval(lo, hi, n)
    if (c < 0) n.left = this.removeAt(n.left, lo, hi)
    else if (c > 0) n.right = this.removeAt(n.right, lo, hi)
    else {
      this.count--
      if (n.left === undefined) return n.right
      if (n.right === undefined) return n.left
      const [right, min] = removeMin(n.right)
      min.left = n.left
      min.right = right
      return balance(min)
    }
    return balance(n)
  }

  private stabAt(n: Node<V> | undefined, p: string, visit: (value: V) => void): number {
    // No interval below here ends after p: none contains it.
    if (n === undefined || (n.maxHi !== null && n.maxHi <= p)) return 0
    let seen = 1 + this.stabAt(n.left, p, visit)
    // Every interval to the right starts at or after n.lo; if that is past p, none contains it.
    if (n.lo > p) return seen
    if (n.hi === null || p < n.hi) for (const v of n.values) visit(v)
    seen += this.stabAt(n.right, p, visit)
    return seen
  }
}
