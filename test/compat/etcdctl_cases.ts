/**
 * Runs the cases of an etcdctl golden file (test/compat/fixtures/etcdctl/*.txt, datadriven
 * format; see etcdctl_output.test.ts) against one endpoint and returns each case's normalized
 * output by case position: stdout, then "stderr: " lines, then "exit: N" when not 0. Shared by
 * the golden-file test (against etcd) and the differential test (etcd and raftctl).
 */
import {readFileSync} from 'node:fs'
import {parseDataDriven, type TestData} from '../harness/datadriven.js'
import type {TestCluster} from '../integration/harness.js'
import {etcdctl, startEtcd} from './etcd_harness.js'
import type {EtcdctlText} from './etcdctl_text.js'

/** The etcdctl arguments of a case and its line limit ("lines=N" as first argument). */
export function argvOf(td: TestData): {args: string[], lines?: number} {
  const args = td.args.map((a) => a.vals.length === 0 ? a.key : `${a.key}=${a.vals.join(',')}`)
  const first = td.args[0]
  if (first?.key === 'lines') return {args: args.slice(1), lines: Number(first.vals[0])}
  return {args}
}

/**
 * Runs the cases of `path` (those `keep` accepts) in order against `endpoints`; `learn` is called
 * before the first case and after each, so `text` knows the ids the outputs name.
 */
export async function runCases(path: string, endpoints: readonly string[], text: EtcdctlText, learn: () => Promise<void>,
  keep: (args: readonly string[]) => boolean = () => true): Promise<Map<string, string>> {
  const outputs = new Map<string, string>()
  await learn()
  for (const {td} of parseDataDriven(readFileSync(path, 'utf8'), path).cases) {
    if (td.cmd !== 'etcdctl') throw new Error(`${td.pos}: unknown command "${td.cmd}" (only etcdctl)`)
    const {args, lines} = argvOf(td)
    if (!keep(args)) continue
    // Blank lines close each of txn's three sections (compares, success, failure); extra ones are not read.
    const input = td.input === '' ? undefined : `${td.input}\n\n\n`
    const r = await etcdctl(endpoints, args.map((a) => text.resolve(a)), {input, stopAfterLines: lines})
    if (r.timedOut) throw new Error(`${td.pos}: etcdctl ${args.join(' ')} did not finish in time: ${r.stdout}${r.stderr}`)
    await learn()
    const stdout = lines === undefined ? r.stdout : r.stdout.split('\n').slice(0, lines).map((l) => `${l}\n`).join('')
    const err = text.stderr(r.stderr).split('\n').filter((l) => l !== '').map((l) => `stderr: ${l}\n`).join('')
    const exit = r.code !== 0 && lines === undefined ? `exit: ${r.code}\n` : ''
    const normalized = args.includes('member') ? text.sortMembers(text.stdout(stdout)) : text.stdout(stdout)
    outputs.set(td.pos, normalized + err + exit)
  }
  return outputs
}

/**
 * The differential tests' one procedure: `outputs` runs against a fresh single-member etcd 3.4
 * (stopped afterwards), then against a fresh single-node raftctl started in `cluster` — node 1,
 * or, with `as`, a node with etcd's member name and a large id (so that its id never matches
 * another number of the output, as etcd's random ids do not).
 */
export async function etcdThenRaftctl<T>(cluster: TestCluster, outputs: (endpoint: string) => Promise<T>,
  as?: {readonly id: number, readonly name: string}): Promise<{expected: T, actual: T}> {
  const etcd = await startEtcd()
  let expected: T
  try {
    expected = await outputs(etcd.endpoints()[0])
  } finally {
    await etcd.stop()
  }
  if (as === undefined) {
    await cluster.bootstrap(1)
  } else {
    const spec = await cluster.spec(as.id)
    cluster.add(spec, ['--name', as.name, '--initial-cluster', `${as.id}=127.0.0.1:${spec.peerPort}`]).start()
  }
  const id = as?.id ?? 1
  await cluster.waitLeader([id])
  return {expected, actual: await outputs(cluster.node(id).client)}
}
