// Golden-file tests of the quorum arithmetic (in the style of etcd-io/raft quorum/testdata).
// Commands:
//   committed cfg=(ids) [cfgj=(ids)|cfgj=zero] idx=(values)
//   vote      cfg=(ids) [cfgj=(ids)|cfgj=zero] votes=(y|n|_ ...)
// cfg is the incoming majority config, cfgj the outgoing one (zero: an explicitly empty outgoing
// half). idx and votes hold one value per voter, in the order the voters appear in cfg and then
// cfgj (ids already listed are skipped); "_" means no ack / no vote. Each result is also computed
// by naive references and alternative formulations; any disagreement is printed as an extra
// "<-- via ..." line, which the golden files never contain.
import {fileURLToPath} from 'node:url'
import {findArg, runDataDrivenDir, type TestData} from '../../harness/datadriven.js'
import {formatIndex} from '../../../src/raft/quorum/ids.js'
import {JointConfig, MajorityConfig} from '../../../src/raft/quorum/index.js'
import {naiveCommittedSortPick, naiveCommittedThreshold, naiveJointVote, naiveVote} from './naive.js'

interface Setup {
  readonly joint: boolean
  readonly incoming: number[]
  readonly outgoing: number[]
  /** Every voter in argument order, each once. */
  readonly order: number[]
}

function ids(td: TestData, key: string): number[] {
  return (findArg(td, key)?.vals ?? []).map((v) => {
    const n = Number(v)
    if (!Number.isSafeInteger(n)) throw new Error(`${td.pos}: ${key} holds a non-integer id "${v}"`)
    return n
  })
}

function setup(td: TestData): Setup {
  const cfgj = findArg(td, 'cfgj')
  const joint = cfgj !== undefined
  const incoming = ids(td, 'cfg')
  const outgoing = cfgj?.vals[0] === 'zero' ? [] : ids(td, 'cfgj')
  return {joint, incoming, outgoing, order: [...new Set([...incoming, ...outgoing])]}
}

/** Maps each voter (in order) to the value at the same position of argument `key`. */
function perVoter(td: TestData, s: Setup, key: string): Map<number, string> {
  const vals = findArg(td, key)?.vals ?? []
  if (vals.length !== s.order.length) {
    throw new Error(`${td.pos}: ${key} has ${vals.length} values for ${s.order.length} voters`)
  }
  return new Map(s.order.map((id, i) => [id, vals[i]]))
}

function committed(td: TestData): string {
  const s = setup(td)
  const raw = perVoter(td, s, 'idx')
  const acked = (id: number): number | undefined => {
    const v = raw.get(id)
    return v === undefined || v === '_' ? undefined : Number(v)
  }
  const inc = new MajorityConfig(s.incoming)
  const out = new MajorityConfig(s.outgoing)
  const jc = new JointConfig(inc, out)
  const idx = s.joint ? jc.committedIndex(acked) : inc.committedIndex(acked)
  let buf = s.joint ? jc.describe(acked) : inc.describe(acked)
  const alt = (got: number, via: string): void => {
    if (got !== idx) buf += `${formatIndex(got)} <-- via ${via}\n`
  }
  const naive = Math.min(naiveCommittedSortPick(inc.slice(), acked), naiveCommittedSortPick(out.slice(), acked))
  alt(naive, 'naive sort-and-pick')
  alt(Math.min(naiveCommittedThreshold(inc.slice(), acked), naiveCommittedThreshold(out.slice(), acked)), 'naive threshold')
  alt(new JointConfig(out, inc).committedIndex(acked), 'swapped halves')
  if (!s.joint) {
    alt(new JointConfig(inc).committedIndex(acked), 'zero-joint quorum')
    alt(new JointConfig(inc, inc).committedIndex(acked), 'self-joint quorum')
  }
  return buf + formatIndex(idx) + '\n'
}

function vote(td: TestData): string {
  const s = setup(td)
  const raw = perVoter(td, s, 'votes')
  const votes = new Map<number, boolean>()
  for (const [id, v] of raw) {
    if (v === 'y') votes.set(id, true)
    else if (v === 'n') votes.set(id, false)
    else if (v !== '_') throw new Error(`${td.pos}: vote "${v}" must be y, n or _`)
  }
  const inc = new MajorityConfig(s.incoming)
  const out = new MajorityConfig(s.outgoing)
  const result = s.joint ? new JointConfig(inc, out).voteResult(votes) : inc.voteResult(votes)
  let buf = ''
  const naive = naiveJointVote(naiveVote(inc.slice(), votes), naiveVote(out.slice(), votes))
  if (naive !== result) buf += `${naive} <-- via naive counting\n`
  const swapped = new JointConfig(out, inc).voteResult(votes)
  if (swapped !== result) buf += `${swapped} <-- via swapped halves\n`
  return buf + result + '\n'
}

describe('quorum golden files', () => {
  runDataDrivenDir(fileURLToPath(new URL('./testdata', import.meta.url)), (td) => {
    switch (td.cmd) {
      case 'committed': return committed(td)
      case 'vote': return vote(td)
      default: throw new Error(`${td.pos}: unknown command "${td.cmd}"`)
    }
  })
})
