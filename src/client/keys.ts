/**
 * Keys as the client takes them (strings are UTF-8) and how a request's key and range_end are
 * built from them, following etcd's conventions (src/raftpb/key_range.ts) and its client's
 * idioms: a prefix p is the range [p, prefixEnd(p)); "from key" is [key, "\0"); and an empty key
 * with either means the whole key space, sent as key "\0" with range_end "\0" (the server, like
 * etcd's, refuses an empty key).
 */
import {ALL_FROM, prefixEnd} from '../raftpb/key_range.js'

export {ALL_FROM, prefixEnd}

/** A key or value: a string (encoded as UTF-8) or raw bytes. */
export type Bytes = string | Uint8Array

const encoder = new TextEncoder()

export function toBytes(b: Bytes): Uint8Array {
  return typeof b === 'string' ? encoder.encode(b) : b
}

/** Decodes bytes as UTF-8 (for display and tests). */
export function bytesToString(b: Uint8Array): string {
  return new TextDecoder().decode(b)
}

/** How a request names its keys: one key, a prefix, every key from a key on, or an explicit end. */
export interface KeyRangeOptions {
  readonly prefix?: boolean
  readonly fromKey?: boolean
  readonly rangeEnd?: Bytes
}

/**
 * The key and range_end of a request. At most one of prefix, fromKey and rangeEnd may be given;
 * with prefix or fromKey an empty key means every key (key "\0", range_end "\0", as etcd's client
 * sends it).
 */
export function keyRange(key: Bytes, opts: KeyRangeOptions = {}): {key: Uint8Array, rangeEnd: Uint8Array} {
  const given = [opts.prefix === true, opts.fromKey === true, opts.rangeEnd !== undefined].filter(Boolean).length
  if (given > 1) throw new Error('give at most one of prefix, fromKey and rangeEnd')
  const k = toBytes(key)
  if ((opts.prefix === true || opts.fromKey === true) && k.length === 0) return {key: ALL_FROM, rangeEnd: ALL_FROM}
  if (opts.prefix === true) return {key: k, rangeEnd: prefixEnd(k)}
  if (opts.fromKey === true) return {key: k, rangeEnd: ALL_FROM}
  return {key: k, rangeEnd: opts.rangeEnd === undefined ? new Uint8Array(0) : toBytes(opts.rangeEnd)}
}
