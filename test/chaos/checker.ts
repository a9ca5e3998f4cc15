/**
 * A linearizability checker for chaos histories over a key/value register per key.
 *
 * Method: the history is partitioned by key (each key is an independent register, so the whole
 * history is linearizable iff every key's is: P-compositionality), and each key is searched with
 * the Wing–Gong algorithm as improved by Lowe and used by Porcupine: walk the time-ordered list
 * of call and return events, linearize a pending op at the earliest point the model accepts it,
 * backtrack when a return is reached whose op was not linearized, and memoise the
 * (set of linearized ops, register state) pairs already explored so no configuration is searched
 * twice.
 *
 * Unknown outcomes: an op whose `return` is null may have taken effect at any point after its
 * call, or never. It gets a return at +infinity (after every other event) and accepts any output;
 * "never" is the same as "at the very end", where nothing observes it. An unknown get has no effect
 * and is dropped, as are ops that provably did not happen (`error` set).
 *
 * Bounds: the search stops with "unknown" when its time budget is spent or its memo table holds
 * more than `maxStates` entries, so a pathological history cannot exhaust the machine.
 */
import type {HistoryOp} from './history.js'

export type Verdict = 'linearizable' | 'not-linearizable' | 'unknown'

export interface CheckOptions {
  /** Time budget of the whole check, all keys together. Default 60 s. */
  readonly timeoutMs?: number
  /** Memo table entries allowed per key search. Default 2,000,000. */
  readonly maxStates?: number
}

export interface KeyResult {
  readonly key: string
  readonly verdict: Verdict
  /** Ops of this key that took part in the search. */
  readonly ops: number
  /** Why the verdict is unknown (a bound that was reached). */
  readonly reason?: string
}

export interface CheckResult {
  readonly verdict: Verdict
  readonly keys: KeyResult[]
}

type State = string | null

/** Applies `o` to register state `s`: whether the model accepts o's output, and the new state. */
export function step(s: State, o: HistoryOp): [boolean, State] {
  const unknown = o.return === null
  switch (o.op) {
    case 'put':
      return [true, o.value]
    case 'get':
      return [unknown || o.output === s, s]
    case 'delete':
      return [unknown || o.output === (s !== null), null]
    case 'cas': {
      const match = s === o.expected
      if (!unknown && o.output !== match) return [false, s]
      return [true, match ? o.value : s]
    }
  }
}

/** The ops the search must place: without refused ops and without unknown gets. */
export function relevant(ops: readonly HistoryOp[]): HistoryOp[] {
  return ops.filter((o) => o.error === undefined && !(o.op === 'get' && o.return === null))
}

/** Groups ops by key, in first-seen order. */
export function partition(ops: readonly HistoryOp[]): Map<string, HistoryOp[]> {
  const byKey = new Map<string, HistoryOp[]>()
  for (const o of ops) {
    let l = byKey.get(o.key)
    if (l === undefined) byKey.set(o.key, l = [])
    l.push(o)
  }
  return byKey
}

/** One event of the doubly linked list the search walks. */
interface Entry {
  readonly op: number
  readonly isCall: boolean
  match: Entry | undefined
  prev: Entry | undefined
  next: Entry | undefined
}

/** Builds the event list: by time, a call before a return at the same instant (they overlap). */
function eventList(ops: readonly HistoryOp[]): Entry {
  const events: Array<{t: number, e: Entry}> = []
  ops.forEach((o, i) => {
    const call: Entry = {op: i, isCall: true, match: undefined, prev: undefined, next: undefined}
    const ret: Entry = {op: i, isCall: false, match: undefined, prev: undefined, next: undefined}
    call.match = ret
    events.push({t: o.call, e: call}, {t: o.return ?? Number.POSITIVE_INFINITY, e: ret})
  })
  events.sort((a, b) => a.t - b.t || (a.e.isCall === b.e.isCall ? a.e.op - b.e.op : a.e.isCall ? -1 : 1))
  const head: Entry = {op: -1, isCall: false, match: undefined, prev: undefined, next: undefined}
  let last = head
  for (const {e} of events) {
    last.next = e
    e.prev = last
    last = e
  }
  return head
}

/** Removes a call and its return from the list. */
function lift(e: Entry): void {
  e.prev!.next = e.next
  e.next!.prev = e.prev
  const m = e.match!
  m.prev!.next = m.next
  if (m.next !== undefined) m.next.prev = m.prev
}

/** Puts back what lift(e) removed. */
function unlift(e: Entry): void {
  const m = e.match!
  m.prev!.next = m
  if (m.next !== undefined) m.next.prev = m
  e.prev!.next = e
  e.next!.prev = e
}

/** A bit set whose contents can be used as a string key. */
class Bits {
  private readonly words: Uint16Array
  constructor(n: number) {
    this.words = new Uint16Array(Math.ceil(n / 16) || 1)
  }
  set(i: number): void { this.words[i >> 4] |= 1 << (i & 15) }
  clear(i: number): void { this.words[i >> 4] &= ~(1 << (i & 15)) }
  key(): string {
    let s = ''
    for (let i = 0; i < this.words.length; i += 4096) s += String.fromCharCode(...this.words.subarray(i, i + 4096))
    return s
  }
}

const stateKey = (s: State): string => (s === null ? '\u0000' : `=${s}`)

/**
 * Searches one key's ops (all on one register, absent at first unless `initial` says otherwise)
 * for a linearization.
 * `deadline` is a Date.now() value; the answer is unknown when it passes or the memo table fills.
 */
export function checkRegister(all: readonly HistoryOp[], deadline: number, maxStates = 2_000_000, initial: State = null): {verdict: Verdict, reason?: string} {
  const ops = relevant(all)
  const head = eventList(ops)
  const bits = new Bits(ops.length)
  const cache = new Set<string>()
  const stack: Array<{entry: Entry, state: State}> = []
  let state: State = initial
  let entry = head.next
  for (let iter = 0; head.next !== undefined; iter++) {
    if ((iter & 1023) === 0 && Date.now() > deadline) return {verdict: 'unknown', reason: 'time limit reached'}
    if (entry!.isCall) {
      const [ok, next] = step(state, ops[entry!.op])
      if (ok) {
        bits.set(entry!.op)
        const k = bits.key() + stateKey(next)
        if (!cache.has(k)) {
          if (cache.size >= maxStates) return {verdict: 'unknown', reason: `more than ${maxStates} states explored`}
          cache.add(k)
          stack.push({entry: entry!, state})
          state = next
          lift(entry!)
          entry = head.next
          continue
        }
        bits.clear(entry!.op)
      }
      entry = entry!.next
    } else {
      const top = stack.pop()
      if (top === undefined) return {verdict: 'not-linearizable'}
      state = top.state
      bits.clear(top.entry.op)
      unlift(top.entry)
      entry = top.entry.next
    }
  }
  return {verdict: 'linearizable'}
}

/** Checks a whole history, key by key, within the options' bounds. */
export function check(history: readonly HistoryOp[], opts: CheckOptions = {}): CheckResult {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000)
  const keys: KeyResult[] = []
  for (const [key, ops] of partition(history)) {
    const r = checkRegister(ops, deadline, opts.maxStates)
    keys.push({key, verdict: r.verdict, ops: relevant(ops).length, ...(r.reason === undefined ? {} : {reason: r.reason})})
  }
  const verdict: Verdict = keys.some((k) => k.verdict === 'not-linearizable') ? 'not-linearizable'
    : keys.some((k) => k.verdict === 'unknown') ? 'unknown' : 'linearizable'
  return {verdict, keys}
}

/**
 * A shrunk failing history: `history` fails from every state in `initial` (the states the key
 * may have held when it starts, ANY_OTHER standing for every value no op of it mentions);
 * `core` are its ops whose outcome is known.
 */
export interface Minimised {
  readonly history: HistoryOp[]
  readonly core: HistoryOp[]
  readonly initial: State[]
  /** When the shrunk history starts (ns): every op it has was called after this, or is unknown. */
  readonly from: number
}

/** Stands for any value that no op of a shrunk history mentions (they all behave alike there). */
export const ANY_OTHER = '\u0000any other value'

/** How many known writes minimise() may turn into unknown ones. */
const MAX_WEAKENED = 12

/** An op turned into one of unknown outcome: it may take effect after its call, or never. */
const weaken = (o: HistoryOp): HistoryOp => ({...o, output: null, return: null})

/**
 * The history up to `t`: ops called at or before t, those still pending at t made unknown. When it
 * is not linearizable, neither is the whole history (known ops all took effect before t, and the
 * ops left out were called after t).
 */
function prefixAt(ops: readonly HistoryOp[], t: number): HistoryOp[] {
  return relevant(ops.filter((o) => o.call <= t).map((o) => (o.return === null || o.return <= t ? o : weaken(o))))
}

/**
 * The history after a quiet moment `q` (no known op in flight): the ops called after q, and the
 * unknown ops called before (they may still take effect). Each state the key may have held at q
 * is among null, the values written before q, and ANY_OTHER; of those values only the ones an op
 * of the suffix mentions behave differently from ANY_OTHER.
 */
function suffixAt(ops: readonly HistoryOp[], q: number): {ops: HistoryOp[], initial: State[]} {
  const suffix = ops.filter((o) => o.call > q || o.return === null)
  const written = new Set(ops.filter((o) => o.call <= q && o.value !== null).map((o) => o.value))
  const mentioned = new Set(suffix.flatMap((o) => [o.op === 'get' ? o.output : null, o.expected]).filter((v) => typeof v === 'string'))
  return {ops: suffix, initial: [null, ANY_OTHER, ...[...mentioned].filter((v) => written.has(v))] as State[]}
}

/** Moments when no known op is in flight (each a known op's return), latest first. */
function quietMoments(ops: readonly HistoryOp[]): number[] {
  const known = ops.filter((o) => o.return !== null)
  const ends = [...new Set(known.map((o) => o.return!))].sort((a, b) => b - a)
  return ends.filter((t) => !known.some((o) => o.call < t && o.return! > t))
}

/**
 * Shrinks a non-linearizable history of one key, using only steps that keep it failing for a
 * reason the original had (each step can only make a history easier to linearize, so a failure
 * that remains is real): (1) the shortest failing prefix in time (binary search); (2) the
 * shortest suffix after a quiet moment that fails whatever the key held then; (3) drop every get
 * that is not needed (delta debugging); (4) make writes unknown one at a time where the failure
 * stays (at most MAX_WEAKENED, as each one widens the search). Writes are never dropped outright:
 * that would forbid an effect the original allowed. Each check is bounded (an unknown answer
 * keeps the op as it was); so is the whole shrinking (`timeoutMs`), which returns the smallest
 * failing history found by then.
 */
export function minimise(ops: readonly HistoryOp[], timeoutMs = 10_000, maxStates = 50_000): Minimised {
  const deadline = Date.now() + timeoutMs
  let initial: State[] = [null]
  let from = 0
  const fails = (c: readonly HistoryOp[], init = initial): boolean => init.every((s) =>
    checkRegister(c, Math.min(deadline, Date.now() + 2000), maxStates, s).verdict === 'not-linearizable')
  let cur = relevant(ops)
  const times = [...new Set(cur.flatMap((o) => (o.return === null ? [o.call] : [o.call, o.return])))].sort((a, b) => a - b)
  let lo = 0
  let hi = times.length - 1
  while (lo < hi && Date.now() < deadline) {
    const mid = (lo + hi) >> 1
    if (fails(prefixAt(cur, times[mid]))) hi = mid
    else lo = mid + 1
  }
  if (fails(prefixAt(cur, times[hi]))) cur = prefixAt(cur, times[hi])
  for (const q of quietMoments(cur)) {
    if (Date.now() >= deadline) break
    const suffix = suffixAt(cur, q)
    if (fails(suffix.ops, suffix.initial)) {
      ({ops: cur, initial} = suffix)
      from = q
      break
    }
  }
  cur = dropGets(cur, fails, deadline)
  let weakened = 0
  for (let i = cur.length - 1; i >= 0 && weakened < MAX_WEAKENED && Date.now() < deadline; i--) {
    if (cur[i].op === 'get' || cur[i].return === null) continue
    const cand = [...cur]
    cand[i] = weaken(cur[i])
    if (fails(cand)) {
      cur = cand
      weakened += 1
    }
  }
  return {history: cur, core: cur.filter((o) => o.return !== null), initial, from}
}

/** Delta debugging over the gets of `ops`: drops ever smaller chunks while the rest still fails. */
function dropGets(ops: HistoryOp[], fails: (c: readonly HistoryOp[]) => boolean, deadline: number): HistoryOp[] {
  let gets = ops.filter((o) => o.op === 'get')
  const others = ops.filter((o) => o.op !== 'get')
  const build = (g: readonly HistoryOp[]): HistoryOp[] => [...others, ...g].sort((a, b) => a.call - b.call)
  let n = 2
  while (gets.length >= 1 && Date.now() < deadline) {
    const chunk = Math.ceil(gets.length / n)
    let reduced = false
    for (let i = 0; i < gets.length && Date.now() < deadline; i += chunk) {
      const cand = [...gets.slice(0, i), ...gets.slice(i + chunk)]
      if (fails(build(cand))) {
        gets = cand
        n = Math.max(n - 1, 2)
        reduced = true
        break
      }
    }
    if (!reduced) {
      if (n >= gets.length) break
      n = Math.min(gets.length, n * 2)
    }
  }
  return build(gets)
}
