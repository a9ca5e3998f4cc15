// Config validation (etcd-io/raft Config.validate) and defaults.
import {expect} from 'chai'
import {type Config, CONFIG_DEFAULTS, seededRandom, validateConfig} from '../../../src/raft/config.js'
import {ConfigInvalidError} from '../../../src/raft/errors.js'

describe('Config', () => {
  it('fills in the documented defaults', () => {
    const c = validateConfig({id: 1})
    expect(c).to.include(CONFIG_DEFAULTS)
    expect(c.electionTick).to.equal(10)
    expect(c.heartbeatTick).to.equal(1)
    expect(c.readOnlyOption).to.equal('safe')
    expect(c.random).to.be.a('function')
  })

  it('keeps given values and ignores undefined ones', () => {
    const c = validateConfig({id: 7, electionTick: 20, heartbeatTick: undefined, preVote: true})
    expect([c.id, c.electionTick, c.heartbeatTick, c.preVote]).to.deep.equal([7, 20, 1, true])
  })

  const bad: Array<[string, Partial<Config>, RegExp]> = [
    ['id 0', {id: 0}, /config\.id/],
    ['negative id', {id: -1}, /config\.id/],
    ['fractional id', {id: 1.5}, /config\.id/],
    ['id above 2^53', {id: 2 ** 53}, /config\.id/],
    ['heartbeatTick 0', {heartbeatTick: 0}, /config\.heartbeatTick/],
    ['electionTick == heartbeatTick', {electionTick: 2, heartbeatTick: 2}, /config\.electionTick/],
    ['electionTick < heartbeatTick', {electionTick: 2, heartbeatTick: 3}, /config\.electionTick/],
    ['maxInflightMsgs 0', {maxInflightMsgs: 0}, /config\.maxInflightMsgs/],
    ['maxInflightBytes < maxSizePerMsg', {maxInflightBytes: 10, maxSizePerMsg: 11}, /config\.maxInflightBytes/],
    ['lease without checkQuorum', {readOnlyOption: 'lease'}, /config\.checkQuorum/],
    ['unknown readOnlyOption', {readOnlyOption: 'fast' as never}, /config\.readOnlyOption/],
    ['negative applied', {applied: -1}, /config\.applied/],
    ['NaN maxSizePerMsg', {maxSizePerMsg: Number.NaN}, /config\.maxSizePerMsg/],
    ['Infinity maxUncommittedSize', {maxUncommittedSize: Infinity}, /config\.maxUncommittedSize/],
    ['non-boolean preVote', {preVote: 1 as never}, /config\.preVote/],
    ['non-function random', {random: 3 as never}, /config\.random/],
  ]
  for (const [what, fields, re] of bad) {
    it(`refuses ${what} with ConfigInvalidError naming the field`, () => {
      expect(() => validateConfig({id: 1, ...fields} as Config)).to.throw(ConfigInvalidError, re)
    })
  }

  it('accepts lease reads with checkQuorum and maxInflightBytes >= maxSizePerMsg', () => {
    expect(() => validateConfig({id: 1, readOnlyOption: 'lease', checkQuorum: true})).to.not.throw()
    expect(() => validateConfig({id: 1, maxInflightBytes: 2048, maxSizePerMsg: 1024})).to.not.throw()
  })

  it('the default random is deterministic per id and stays in [0, n)', () => {
    const a = seededRandom(1)
    const b = seededRandom(1)
    const seqA = Array.from({length: 50}, () => a(10))
    expect(seqA).to.deep.equal(Array.from({length: 50}, () => b(10)))
    expect(seqA.every((x) => Number.isInteger(x) && x >= 0 && x < 10)).to.equal(true)
    expect(new Set(seqA).size).to.be.greaterThan(3)
  })
})
