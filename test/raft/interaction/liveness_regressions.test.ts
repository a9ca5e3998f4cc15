// Regression tests of core liveness bugs the property tests found (they were kept in
// known_bugs.test.ts, skipped, until fixed). Each drives an interaction group into the state that
// used to deadlock and asserts that the group recovers: a leader is elected in the committed
// configuration and a proposal commits. See Raft.maybeCommitByVote and stepDownIfRemoved
// (src/raft/raft_apply_conf.ts) for the fixes.
import {expect} from 'chai'
import {parseDataDriven} from '../../harness/datadriven.js'
import {InteractionEnv} from '../../harness/interaction.js'
import {StateRole} from '../../../src/raft/role.js'

/** Runs a script (cases without expected output) and returns the env. */
function runScript(script: string): InteractionEnv {
  const env = new InteractionEnv()
  for (const c of parseDataDriven(script, 'script').cases) env.handle(c.td)
  return env
}

/** Lets both nodes time out and campaign `rounds` times; returns whether a leader emerged. */
function electLeader(env: InteractionEnv, rounds: number): boolean {
  for (let i = 0; i < rounds; i++) {
    for (const n of env.nodes) {
      env.handle({pos: 'tick', cmd: 'tick-election', args: [{key: String(n.id), vals: []}], input: '', expected: ''})
    }
    env.handle({pos: 'stabilize', cmd: 'stabilize', args: [], input: '', expected: ''})
    if (env.nodes.some((n) => n.rn?.raft.state === StateRole.Leader)) return true
  }
  return false
}

// Voters (1 2), leader 1 demotes itself to learner ("l1", a simple change). Entry 4 (the change) is
// on both nodes and committed, and leader 1 has appended entry 5 ("foo") when it applies the
// change. The messages that would tell node 2 about entry 5 and commit 4 are lost. Node 2 still
// uses the config (1 2) (it has not applied the change), so it needs node 1's vote; node 1 refuses
// it (its log is longer, Raft §5.4.1) and, as a learner, never campaigns. No leader can ever be
// elected although the committed configuration, voters=(2), is fully up.
// Fix: node 1's vote rejection carries its commit index; node 2 has entry 4 with the same term,
// so it learns that 4 is committed (Raft.maybeCommitByVote), applies it and wins alone.
//
// A leader that proposes its own demotion now refuses writes until it applies it (reason
// 'leader-stepping-down'), so with stepDownOnRemoval this prefix no longer reaches that state:
// it is used as is only without stepDownOnRemoval (where "foo" is accepted), and
// inheritedDemotionPrefix reaches the same state with stepDownOnRemoval.
const DEMOTED_LEADER_PREFIX = `
campaign 1
----

stabilize
----

propose-conf-change 1
l1
----

process-ready 1
----

deliver-msgs
----

process-ready 2
----

propose 1 foo
----

deliver-msgs
----

process-ready 1
----

deliver-msgs drop=(2)
----
`

/**
 * The same state as DEMOTED_LEADER_PREFIX with stepDownOnRemoval (see
 * testdata/leader_demoted_commit_lost.txt): leader 2 proposes demoting node 1 (entry 4) and is
 * restarted before committing it; node 1 is elected, inherits entry 4, appends entry 5 and
 * accepts "foo" (entry 6) — the refusal only covers a leader's own proposals. It applies entry 4
 * while node 2 lacks entry 6, hands over by catching node 2 up, but every message to node 2 is
 * lost and it steps down after an election timeout with a longer log than node 2. The restart of
 * node 2 ends its leader lease, so that node 1 can be elected with check-quorum too; with
 * pre-vote the election takes one more round trip.
 */
function inheritedDemotionPrefix(preVote: boolean): string {
  const round = 'process-ready 1\n----\n\ndeliver-msgs 2\n----\n\nprocess-ready 2\n----\n\ndeliver-msgs 1\n----\n\n'
  return `
campaign 2
----

stabilize
----

propose-conf-change 2
l1
----

process-ready 2
----

deliver-msgs 1
----

process-ready 1
----

deliver-msgs drop=(2)
----

crash 2
----

restart 2
----

campaign 1
----

${preVote ? round + round : round}process-ready 1
----

deliver-msgs 2
----

process-ready 2
----

propose 1 foo
----

process-ready 1
----

deliver-msgs 1
----

process-ready 1
----

deliver-msgs drop=(2)
----

tick-election 1
----

process-ready 1
----

deliver-msgs drop=(2)
----
`
}

// Voters (1 2), stepDownOnRemoval false. Leader 1 demotes itself ("l1") and, still leading as a
// learner (its progress exists, so it may propose), removes itself with a joint change ("r1",
// implicit: voters=(2)&&(2) autoleave). Once that is applied, leader 1 has no progress: the
// auto-leave proposal is dropped ('not-a-member'), so is every other proposal, and its heartbeats
// keep node 2 from ever campaigning. The group stays joint and refuses every write forever
// (DESIGN.md §2: the leave must be proposed "whatever happened to leadership").
// Fix: a leader removed entirely always steps down (stepDownOnRemoval only keeps a demoted one).
const REMOVED_LEADER_JOINT = `add-nodes 2 voters=(1,2) index=2 step-down-on-removal=false
----

campaign 1
----

stabilize
----

propose-conf-change 1
l1
----

stabilize
----

propose-conf-change 1 transition=implicit
r1
----

stabilize
----
`

/** Runs a command with plain arguments. */
function cmd(env: InteractionEnv, c: string, ...args: Array<number | string>): string {
  return env.handle({pos: c, cmd: c, args: args.map((a) => ({key: String(a), vals: []})), input: '', expected: ''})
}

/** The leader among the nodes, which must be unique. */
function theLeader(env: InteractionEnv): number {
  const leaders = env.nodes.filter((n) => n.rn?.raft.state === StateRole.Leader).map((n) => n.id)
  expect(leaders, 'exactly one leader').to.have.length(1)
  return leaders[0]
}

/**
 * Checks the state inheritedDemotionPrefix must reach: node 1 stepped down (a learner) with a
 * longer log than node 2, which has not learned that the change (entry 4) is committed.
 */
function expectLongerLogStepDown(env: InteractionEnv): void {
  const [r1, r2] = [env.nodes[0].rn!.raft, env.nodes[1].rn!.raft]
  expect([r1.state, r1.isLearner], 'node 1 stepped down as a learner').to.deep.equal([StateRole.Follower, true])
  expect(r1.raftLog.lastIndex(), 'node 1 has a longer log').to.be.greaterThan(r2.raftLog.lastIndex())
  expect(r2.raftLog.committed, 'node 2 has not learned that entry 4 is committed').to.be.lessThan(4)
}

/** Proposes at `id` and checks that every node listed applied it (in its raft-log). */
function expectProposalCommits(env: InteractionEnv, id: number, data: string): void {
  expect(cmd(env, 'propose', id, data)).to.equal('ok')
  cmd(env, 'stabilize')
  expect(env.nodes[id - 1].rn!.raft.raftLog.committed).to.equal(env.nodes[id - 1].rn!.raft.raftLog.lastIndex())
  expect(cmd(env, 'raft-log', id)).to.contain(data)
}

describe('liveness regressions: a leader leaving the voters', () => {
  it('a leader that demotes itself and steps down, with the commit lost, does not leave the group leaderless', () => {
    const env = runScript(`add-nodes 2 voters=(1,2) index=2\n----\n${inheritedDemotionPrefix(false)}`)
    expectLongerLogStepDown(env)
    expect(electLeader(env, 3), 'a leader within 3 election rounds').to.equal(true)
    expect(theLeader(env)).to.equal(2)
    expect(cmd(env, 'status', 2)).to.contain('config: voters=(2) learners=(1)')
    expectProposalCommits(env, 2, 'bar')
  })

  it('the same with pre-vote and check-quorum', () => {
    const env = runScript(`add-nodes 2 voters=(1,2) index=2 prevote=true checkquorum=true\n----\n${inheritedDemotionPrefix(true)}`)
    expectLongerLogStepDown(env)
    expect(electLeader(env, 3), 'a leader within 3 election rounds').to.equal(true)
    expect(theLeader(env)).to.equal(2)
    expectProposalCommits(env, 2, 'bar')
  })

  it('a demoted leader that keeps leading (no stepDownOnRemoval) and crashes after applying does not deadlock the group', () => {
    const env = runScript(`add-nodes 2 voters=(1,2) index=2 step-down-on-removal=false\n----\n${DEMOTED_LEADER_PREFIX}
crash 1
----

restart 1
----
`)
    expect(env.nodes[1].rn!.raft.raftLog.committed).to.equal(3)
    expect(electLeader(env, 3), 'a leader within 3 election rounds').to.equal(true)
    expect(theLeader(env)).to.equal(2)
    expectProposalCommits(env, 2, 'bar')
  })

  it('a removed leader (stepDownOnRemoval false) steps down, so the group leaves its auto-leave joint config and serves writes', () => {
    const env = runScript(REMOVED_LEADER_JOINT)
    expect(env.nodes[0].rn!.raft.state, 'the removed leader stepped down').to.equal(StateRole.Follower)
    // Normal operation with heartbeats for ten election timeouts, proposing at node 2.
    for (let i = 0; i < 30; i++) {
      cmd(env, 'tick-heartbeat', 1)
      cmd(env, 'tick-heartbeat', 2)
      cmd(env, 'stabilize')
    }
    const n2 = env.nodes[1].rn!.raft
    expect(n2.trk.config.voters.isJoint(), 'node 2 left the joint config voters=(2)&&(2)').to.equal(false)
    expect(theLeader(env)).to.equal(2)
    expect(cmd(env, 'propose', 2, 'foo')).to.equal('ok')
    expect(cmd(env, 'stabilize')).not.to.contain('ERROR')
    expect(cmd(env, 'raft-log', 2)).to.contain('foo')
  })
})
