/**
 * Db.compactRange (etcd's Defragment in raftctl): after many records were written and deleted,
 * compacting the whole database returns their space — the SST files shrink — and the live
 * records stay readable.
 */
import {expect} from 'chai'
import {randomBytes} from 'node:crypto'
import {join} from 'node:path'
import {Db, DbError} from '../../src/storage/db.js'
import {rejects, TempDirs} from './helpers.js'

const key = (i: number): Uint8Array => new TextEncoder().encode(`k/${String(i).padStart(6, '0')}`)

describe('storage/db: compactRange', function () {
  this.timeout(60_000)
  const dirs = new TempDirs()
  afterEach(() => dirs.cleanup())

  it('returns the space of deleted records and keeps the live ones', async () => {
    const db = await Db.open(join(dirs.make(), 'db'), {createIfMissing: true})
    try {
      const value = randomBytes(4096) // incompressible
      for (let b = 0; b < 10; b++) {
        await db.write(Array.from({length: 200}, (_, i) => ({type: 'put' as const, key: key(b * 200 + i), value})), {sync: false})
      }
      await db.compactRange()
      const full = Number(db.property('rocksdb.total-sst-files-size'))
      expect(full, 'the records reached SST files').to.be.greaterThan(4_000_000)
      await db.write(Array.from({length: 1990}, (_, i) => ({type: 'del' as const, key: key(i)})), {sync: false})
      await db.compactRange()
      const after = Number(db.property('rocksdb.total-sst-files-size'))
      expect(after, 'the deleted records\' space is returned').to.be.lessThan(full / 10)
      expect(await db.get(key(1995))).to.deep.equal(value)
      expect(await db.get(key(5))).to.equal(undefined)
    } finally {
      await db.close()
    }
    expect(await rejects(db.compactRange())).to.be.instanceOf(DbError)
  })
})
