/**
 * A data dir written by an older raftctl (storage format 1, keys without MVCC history) is refused
 * at open with one line naming its format and what to do; nothing is migrated or reset.
 */
import {expect} from 'chai'
import {Db} from '../../src/storage/db.js'
import {IDENT_KEY, OldFormatError, RaftStorage} from '../../src/storage/index.js'
import {rejects, TempDirs} from '../storage/helpers.js'
import {TestNode} from './helpers.js'

describe('kv/storage format', () => {
  const tmp = new TempDirs()
  afterEach(() => tmp.cleanup())

  it('refuses a format-1 data dir with one line naming the format and the way out, and leaves it untouched', async () => {
    const n = await TestNode.create(tmp.make('raftctl-format-'))
    await n.put('a', '1')
    await n.close()
    const db = await Db.open(`${n.dir}/db`, {createIfMissing: false})
    const ident = (await db.get(IDENT_KEY))!
    const old = Buffer.from(ident)
    old[0] = 1
    await db.write([{type: 'put', key: IDENT_KEY, value: old}])
    await db.close()
    const e = await rejects(RaftStorage.open(n.dir))
    expect(e).to.be.instanceOf(OldFormatError).and.have.property('code', 'OLD_FORMAT')
    expect(e.message.split('\n')).to.have.length(1)
    expect(e.message).to.equal(`data dir ${n.dir} has storage format 1 (written by a raftctl without MVCC history); ` +
      'this raftctl needs format 2 and does not convert it: start this node with a new --data-dir so that it joins ' +
      'the cluster and receives the data, or restore a snapshot taken by this raftctl (raftctl snapshot restore)')
    const again = await Db.open(`${n.dir}/db`, {createIfMissing: false})
    expect(Buffer.from((await again.get(IDENT_KEY))!)).to.deep.equal(old)
    await again.close()
  })
})
