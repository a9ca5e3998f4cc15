/**
 * Fingerprints of a data dir, to check that hostile input or a failed write left it exactly as it
 * was: every RocksDB key and value (the logical content, not the files, which RocksDB may rewrite
 * on its own), and the name and SHA-256 of every file under snap/.
 */
import {createHash} from 'node:crypto'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Db} from '../../src/storage/db.js'

/** Hex key → SHA-256 of the value, for every key of an open database. */
export async function dbContent(db: Db): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for await (const [k, v] of db.iterate()) out.set(k.toString('hex'), createHash('sha256').update(v).digest('hex'))
  return out
}

/** File name → SHA-256 of its content, for every file in `dir` (empty when it is missing). */
export function filesIn(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  if (!existsSync(dir)) return out
  for (const name of readdirSync(dir).sort()) out.set(name, createHash('sha256').update(readFileSync(join(dir, name))).digest('hex'))
  return out
}

export interface Fingerprint {
  readonly db: Map<string, string>
  readonly snap: Map<string, string>
}

/** The fingerprint of data dir `dir` whose database is open as `db`. */
export async function fingerprintOpen(dir: string, db: Db): Promise<Fingerprint> {
  return {db: await dbContent(db), snap: filesIn(join(dir, 'snap'))}
}

/** The fingerprint of a data dir no process has open (the database is opened and closed here). */
export async function fingerprintClosed(dir: string): Promise<Fingerprint> {
  const db = await Db.open(join(dir, 'db'), {createIfMissing: false})
  try {
    return await fingerprintOpen(dir, db)
  } finally {
    await db.close()
  }
}

/** A sentence naming the first difference between two fingerprints, or undefined. */
export function difference(before: Fingerprint, after: Fingerprint): string | undefined {
  return mapDifference('RocksDB key', before.db, after.db) ?? mapDifference('snapshot file', before.snap, after.snap)
}

function mapDifference(what: string, a: Map<string, string>, b: Map<string, string>): string | undefined {
  for (const [k, v] of a) {
    if (!b.has(k)) return `${what} ${k} was removed`
    if (b.get(k) !== v) return `${what} ${k} was changed`
  }
  for (const k of b.keys()) if (!a.has(k)) return `${what} ${k} was added`
  return undefined
}
