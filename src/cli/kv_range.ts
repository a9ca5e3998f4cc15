/**
 * The key argument of `kv get`, `kv del` and `kv watch` and how it names keys, as etcdctl's:
 * KEY alone is one key; --prefix every key that starts with KEY; --from-key every key >= KEY
 * (bytewise). An empty KEY is refused alone, and with --prefix or --from-key means every key
 * (sent as key "\0", range_end "\0": see src/client/keys.ts).
 */
import {Flags} from '@oclif/core'
import {UsageError} from './member_args.js'
import {printable} from './printable.js'

/** --prefix and --from-key, with summaries for `verb` ("Read", "Delete" or "Watch"). */
export function rangeFlags(verb: string) {
  return {
    prefix: Flags.boolean({char: 'p', summary: `${verb} every key that starts with KEY ("" with --prefix: every key).`, exclusive: ['from-key']}),
    'from-key': Flags.boolean({summary: `${verb} every key greater than or equal to KEY, bytewise ("" with --from-key: every key).`, exclusive: ['prefix']}),
  }
}

export interface RangeFlags {
  readonly prefix: boolean
  readonly 'from-key': boolean
}

/** Refuses an empty KEY without --prefix or --from-key, naming both ways to ask for every key. */
export function checkRangeKey(key: string, f: RangeFlags): void {
  if (key === '' && !f.prefix && !f['from-key']) {
    throw new UsageError('the key is empty; give a key, or "" with --prefix or --from-key for every key')
  }
}

/** The keys in words for the human output: `key "a"`, `keys with prefix "a/"`, `keys from "a" on`, `keys in the whole key space`. */
export function describeRange(key: string, f: RangeFlags): string {
  const k = `"${printable(key).text}"`
  if (key === '' && (f.prefix || f['from-key'])) return 'keys in the whole key space'
  if (f.prefix) return `keys with prefix ${k}`
  return f['from-key'] ? `keys from ${k} on` : `key ${k}`
}
