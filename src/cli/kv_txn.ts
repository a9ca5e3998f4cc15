/**
 * The text forms of transaction compares and operations used by `raftctl kv txn` (from flags or
 * typed at the interactive prompt), close to etcdctl's:
 *
 *   compare:    value(KEY) = VALUE      version(KEY) > 2     create(KEY) < 10
 *               mod(KEY) != 7           exists(KEY) = true
 *               (operators = != > <; ver/c/m are accepted for version/create/mod)
 *   operation:  put KEY VALUE           get KEY [--prefix|--from-key] [--limit N] [--keys-only] [--count-only]
 *               del KEY [--prefix|--from-key]       ("" with --prefix or --from-key: every key)
 *
 * exists(KEY) is raftctl's shorthand: etcd has no such target, so it is sent as etcd's idiom,
 * version(KEY) > 0 for "exists" and version(KEY) = 0 for "does not exist".
 *
 * Keys and values may be quoted with "..." or '...' (needed for spaces); inside double quotes a
 * backslash escapes the next character. Every parse error names the text and what was wrong.
 */
import {keyRange, toBytes} from '../client/index.js'
import {type Compare, Compare_CompareResult as Result, Compare_CompareTarget as Target, type RequestOp} from '../generated/etcd/etcdserverpb/kv.js'
import {CodedError, withCode} from '../raft/errors.js'

/** Raised for a compare or operation that does not parse. */
export class TxnSyntaxError extends withCode(CodedError, 'BAD_TXN') {}

const TARGETS: Record<string, Target | 'exists'> = {
  value: Target.VALUE, val: Target.VALUE,
  version: Target.VERSION, ver: Target.VERSION,
  create: Target.CREATE, c: Target.CREATE, create_revision: Target.CREATE,
  mod: Target.MOD, m: Target.MOD, mod_revision: Target.MOD,
  exists: 'exists',
}
const OPS: Record<string, Result> = {'=': Result.EQUAL, '==': Result.EQUAL, '!=': Result.NOT_EQUAL, '>': Result.GREATER, '<': Result.LESS}

/** Splits a line into words, honouring "double" and 'single' quotes. */
export function tokenize(line: string): string[] {
  const words: string[] = []
  let cur: string | undefined
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quote !== undefined) {
      if (ch === quote) quote = undefined
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i]
      else cur += ch
    } else if (ch === '"' || ch === '\'') {
      quote = ch
      cur ??= ''
    } else if (/\s/.test(ch)) {
      if (cur !== undefined) words.push(cur)
      cur = undefined
    } else {
      cur = (cur ?? '') + ch
    }
  }
  if (quote !== undefined) throw new TxnSyntaxError(`"${line}" has an unclosed ${quote} quote`)
  if (cur !== undefined) words.push(cur)
  return words
}

/** Parses one compare such as `value(config/a) = "x"` or `version(k) > 2`. */
export function parseCompare(text: string): Compare {
  const m = /^\s*([a-z_]+)\s*\((.*)\)\s*(==|!=|=|>|<)\s*(.*?)\s*$/s.exec(text)
  if (m === null) throw new TxnSyntaxError(`compare "${text}" is not TARGET(KEY) OP VALUE, e.g. 'value(k) = v' or 'version(k) > 2'`)
  const target = TARGETS[m[1]]
  if (target === undefined) throw new TxnSyntaxError(`compare "${text}": unknown target "${m[1]}"; use value, version, create, mod or exists`)
  const keyWords = tokenize(m[2])
  if (keyWords.length !== 1 || keyWords[0] === '') throw new TxnSyntaxError(`compare "${text}": give exactly one non-empty key in the parentheses`)
  const valueWords = tokenize(m[4])
  if (valueWords.length !== 1) throw new TxnSyntaxError(`compare "${text}": give exactly one value after ${m[3]} (quote it if it has spaces)`)
  const result = OPS[m[3]]
  const key = toBytes(keyWords[0])
  const v = valueWords[0]
  if (target === 'exists') {
    if (result !== Result.EQUAL && result !== Result.NOT_EQUAL) throw new TxnSyntaxError(`compare "${text}": exists takes only = or !=`)
    if (v !== 'true' && v !== 'false') throw new TxnSyntaxError(`compare "${text}": exists compares with true or false, not "${v}"`)
    const exists = (v === 'true') === (result === Result.EQUAL)
    return {result: exists ? Result.GREATER : Result.EQUAL, target: Target.VERSION, key, version: 0n, rangeEnd: new Uint8Array(0)}
  }
  const c: Compare = {result, target, key, rangeEnd: new Uint8Array(0)}
  if (target === Target.VALUE) return {...c, value: toBytes(v)}
  const n = Number(v)
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new TxnSyntaxError(`compare "${text}": "${v}" is not a non-negative integer`)
  if (target === Target.VERSION) return {...c, version: BigInt(n)}
  return target === Target.CREATE ? {...c, createRevision: BigInt(n)} : {...c, modRevision: BigInt(n)}
}

/** Takes the option words (--prefix ...) after an operation's arguments. */
function options(text: string, words: string[], allowed: readonly string[]): {prefix: boolean, fromKey: boolean, keysOnly: boolean, countOnly: boolean, limit: number} {
  const o = {prefix: false, fromKey: false, keysOnly: false, countOnly: false, limit: 0}
  for (let i = 0; i < words.length; i++) {
    const w = words[i]
    if (!allowed.includes(w)) throw new TxnSyntaxError(`operation "${text}": unexpected "${w}" (allowed here: ${allowed.join(' ') || 'nothing'})`)
    if (w === '--prefix') o.prefix = true
    else if (w === '--from-key') o.fromKey = true
    else if (w === '--keys-only') o.keysOnly = true
    else if (w === '--count-only') o.countOnly = true
    else {
      const n = Number(words[++i])
      if (!Number.isSafeInteger(n) || n < 0) throw new TxnSyntaxError(`operation "${text}": --limit needs a non-negative integer`)
      o.limit = n
    }
  }
  if (o.prefix && o.fromKey) throw new TxnSyntaxError(`operation "${text}": give --prefix or --from-key, not both`)
  return o
}

/** The key and range end of a get or del: one key, a prefix or from a key on ("" with either: every key). */
function opRange(text: string, key: string, o: {prefix: boolean, fromKey: boolean}): {key: Uint8Array, rangeEnd: Uint8Array} {
  if (key === '' && !o.prefix && !o.fromKey) throw new TxnSyntaxError(`operation "${text}" needs a non-empty key (or "" with --prefix or --from-key for every key)`)
  return keyRange(key, {prefix: o.prefix, fromKey: o.fromKey})
}

/** Parses one operation: `put k v`, `get k [--prefix|--from-key] [--limit N] [--keys-only] [--count-only]`, `del k [--prefix|--from-key]`. */
export function parseOp(text: string): RequestOp {
  const [verb, key, ...rest] = tokenize(text)
  if (verb === undefined) throw new TxnSyntaxError('an operation is empty; use put KEY VALUE, get KEY or del KEY')
  if (key === undefined) throw new TxnSyntaxError(`operation "${text}" needs a non-empty key`)
  switch (verb) {
    case 'put': {
      if (key === '') throw new TxnSyntaxError(`operation "${text}" needs a non-empty key`)
      if (rest.length !== 1) throw new TxnSyntaxError(`operation "${text}": put takes KEY VALUE (quote a value with spaces)`)
      return {requestPut: {key: toBytes(key), value: toBytes(rest[0]), lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false}}
    }
    case 'get': {
      const o = options(text, rest, ['--prefix', '--from-key', '--limit', '--keys-only', '--count-only'])
      return {requestRange: {
        ...opRange(text, key, o), limit: o.limit, revision: 0, sortOrder: 0, sortTarget: 0, serializable: false, keysOnly: o.keysOnly,
        countOnly: o.countOnly, minModRevision: 0, maxModRevision: 0, minCreateRevision: 0, maxCreateRevision: 0,
      }}
    }
    case 'del':
    case 'delete': {
      const o = options(text, rest, ['--prefix', '--from-key'])
      return {requestDeleteRange: {...opRange(text, key, o), prevKv: false}}
    }
    default:
      throw new TxnSyntaxError(`operation "${text}": unknown verb "${verb}"; use put, get or del`)
  }
}
