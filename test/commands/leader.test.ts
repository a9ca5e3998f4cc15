/**
 * `raftctl leader transfer` through the real CLI against a real 3-node cluster: the transfer
 * happens (checked with Status calls to the nodes), --json field by field, the no-op of
 * transferring to the current leader, and one-line errors.
 */
import {expect} from 'chai'
import {TestCluster, waitFor} from '../integration/harness.js'
import {errorLine, runCli, runCliJson, startThreeNodes, stopNodes} from './cli_harness.js'

interface TransferJ {
  previousLeader: number
  leader: number
  members: Array<{id: number, isLeader: boolean, role: string}>
  config: {voters: number[], text: string}
}

describe('raftctl leader transfer against a 3-node cluster', function () {
  this.timeout(120_000)
  let tc: TestCluster
  let E: string[]

  /** The leader every node names (waits until they agree). */
  const agreedLeader = (): Promise<number> => tc.waitLeader([1, 2, 3], 15_000)

  before(async function () {
    this.timeout(240_000)
    const three = await startThreeNodes()
    tc = three.tc
    E = three.E
  })

  after(() => stopNodes(tc))

  it('moves leadership to a follower and says from where to where', async () => {
    const from = await agreedLeader()
    const to = [1, 2, 3].find((id) => id !== from)!
    const r = await runCli(['leader', 'transfer', String(to), ...E])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout.trim()).to.equal(`Leadership transferred from node ${from} to node ${to}.`)
    expect(await agreedLeader()).to.equal(to)
    const st = await tc.client([to]).status(tc.node(to).client)
    expect(st.leader).to.equal(to)
  })

  it('returns the previous and the new leader and the member list with --json', async () => {
    const from = await agreedLeader()
    const to = [1, 2, 3].find((id) => id !== from)!
    const {result, json} = await runCliJson<TransferJ>(['leader', 'transfer', String(to), ...E])
    expect(result.code, result.stderr).to.equal(0)
    expect(json.previousLeader).to.equal(from)
    expect(json.leader).to.equal(to)
    expect(json.config.voters).to.deep.equal([1, 2, 3])
    expect(json.config.text).to.equal('voters=(1 2 3)')
    expect(json.members.map((m) => m.id)).to.deep.equal([1, 2, 3])
    await waitFor(`node ${to} to lead`, async () => (await agreedLeader()) === to)
  })

  it('changes nothing when the target already leads', async () => {
    const leader = await agreedLeader()
    const r = await runCli(['leader', 'transfer', String(leader), ...E])
    expect(r.code, r.stderr).to.equal(0)
    expect(r.stdout.trim()).to.equal(`Node ${leader} already leads; nothing changed.`)
    expect(await agreedLeader()).to.equal(leader)
  })

  it('fails with one line for a bad id, an unknown member and an unreachable endpoint', async () => {
    const bad = await runCli(['leader', 'transfer', '-5', ...E])
    expect(bad.code).to.not.equal(0)
    expect(errorLine(bad)).to.match(/^Error: /)
    const zero = await runCli(['leader', 'transfer', '0', ...E])
    expect(zero.code).to.equal(1)
    expect(errorLine(zero)).to.equal('Error: target id "0" is not a node id; give a positive integer (1 to 2^53-1)')
    const unknown = await runCliJson(['leader', 'transfer', '9', ...E])
    expect(unknown.result.code).to.equal(1)
    expect(unknown.json).to.deep.equal({error: {message: 'node 9 is not a member of the cluster', code: 'ERROR'}})
    const dead = await runCli(['leader', 'transfer', '2', '--endpoints', '127.0.0.1:1', '--timeout', '2s'])
    expect(dead.code).to.equal(1)
    expect(errorLine(dead)).to.equal('Error: cannot reach 127.0.0.1:1: no raftctl server answers there')
  })
})
