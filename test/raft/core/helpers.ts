/** Small builders shared by the core unit tests. */
import {type Entry, newEntry, type Snapshot} from '../../../src/raft/types.js'

/** An entry with the given index and term (and optional data). */
export function ent(index: number, term: number, data?: string): Entry {
  return newEntry({index, term, ...(data === undefined ? {} : {data: new TextEncoder().encode(data)})})
}

/** Entries (index, term) for each [index, term] pair. */
export function ents(...pairs: Array<[number, number]>): Entry[] {
  return pairs.map(([i, t]) => ent(i, t))
}

/** Entries with indexes from..from+terms.length-1 and the given terms. */
export function entsFrom(from: number, ...terms: number[]): Entry[] {
  return terms.map((t, i) => ent(from + i, t))
}

/** (index, term) pairs of entries, for compact assertions. */
export function ids(es: readonly Entry[]): Array<[number, number]> {
  return es.map((e) => [e.index, e.term])
}

/** A snapshot at (index, term) with the given voters. */
export function snap(index: number, term: number, voters: number[] = [1, 2, 3], learners: number[] = []): Snapshot {
  return {
    data: new Uint8Array(0),
    metadata: {index, term, confState: {voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false}},
  }
}
