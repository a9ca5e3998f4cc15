/** Temporary data dirs under os.tmpdir() for storage tests, removed after each test. */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {type Entry, EntryType} from '../../src/raft/types.js'

export class TempDirs {
  private readonly dirs: string[] = []

  make(prefix = 'raftctl-storage-'): string {
    const d = mkdtempSync(join(tmpdir(), prefix))
    this.dirs.push(d)
    return d
  }

  cleanup(): void {
    for (const d of this.dirs.splice(0)) rmSync(d, {recursive: true, force: true})
  }
}

/** Entries lo..hi (inclusive) with the given term and data "e<index>". */
export function ents(lo: number, hi: number, term: number): Entry[] {
  const out: Entry[] = []
  for (let i = lo; i <= hi; i++) {
    out.push({entryType: EntryType.EntryNormal, index: i, term, data: new TextEncoder().encode(`e${i}`), context: new Uint8Array(0)})
  }
  return out
}

/** Expects `p` to reject; returns the error. */
export async function rejects(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected the promise to reject, but it resolved')
}
