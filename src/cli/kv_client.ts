/**
 * Helpers shared by the kv, cluster and snapshot commands: a client built from the common flags
 * that is always closed (so the process exits when the command is done), and the plain-object
 * form of keys and values used for --json and for tables.
 */
import {bytesToString, RaftctlClient} from '../client/index.js'
import type {KeyValue} from '../generated/raftctl/v1/kv.js'

/** Runs `fn` with a client of `endpoints` and closes the client afterwards, whatever happens. */
export async function withClient<T>(endpoints: readonly string[], timeoutMs: number, fn: (c: RaftctlClient) => Promise<T>): Promise<T> {
  const client = new RaftctlClient({endpoints, timeoutMs})
  try {
    return await fn(client)
  } finally {
    client.close()
  }
}

/** A stored key as printed with --json: key and value as UTF-8 text, revisions as numbers. */
export interface KeyValueJson {
  readonly key: string
  readonly value: string
  readonly createRevision: number
  readonly modRevision: number
  readonly version: number
}

export function kvToJson(kv: KeyValue): KeyValueJson {
  return {
    key: bytesToString(kv.key), value: bytesToString(kv.value),
    createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version,
  }
}

/** Table rows of key-values: key, value, version, create and mod revision (values only if wanted). */
export function kvRows(kvs: readonly KeyValueJson[], keysOnly: boolean): {head: string[], rows: Array<Array<string | number>>} {
  if (keysOnly) return {head: ['KEY'], rows: kvs.map((k) => [k.key])}
  return {
    head: ['KEY', 'VALUE', 'VERSION', 'CREATE REV', 'MOD REV'],
    rows: kvs.map((k) => [k.key, k.value, k.version, k.createRevision, k.modRevision]),
  }
}

/** Checks a numeric flag: a safe integer at least `min`. */
export function checkInt(flag: string, v: number | undefined, min: number): number | undefined {
  if (v === undefined) return undefined
  if (!Number.isSafeInteger(v) || v < min) throw new Error(`--${flag} ${v} must be an integer >= ${min}`)
  return v
}
