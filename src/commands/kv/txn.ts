import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base.js'
import {commandLine} from '../../cli/invocation.js'
import {withClient} from '../../cli/kv_client.js'
import {type KeyValueJson, kvToJson, txnView} from '../../cli/kv_output.js'
import {parseCompare, parseOp} from '../../cli/kv_txn.js'
import {UsageError} from '../../cli/member_args.js'
import {promptTxn} from '../../cli/kv_txn_prompt.js'
import {emit, hexFlag, writeOutFlag} from '../../cli/output.js'
import {isInteractive} from '../../cli/prompt.js'
import type {ResponseOp} from '../../generated/etcd/etcdserverpb/kv.js'

/** The result of one operation of the branch that ran. */
export type TxnOpResult =
  | {readonly op: 'put', readonly revision: number}
  | {readonly op: 'get', readonly count: number, readonly more: boolean, readonly kvs: readonly KeyValueJson[]}
  | {readonly op: 'del', readonly deleted: number}

/** What `raftctl kv txn` prints with --json. */
export interface TxnResult {
  /** True when every compare held (the success operations ran), false when the failure ones ran. */
  readonly succeeded: boolean
  /** The store revision after the transaction. */
  readonly revision: number
  readonly responses: readonly TxnOpResult[]
}

export default class KvTxn extends BaseCommand<typeof KvTxn> {
  static override summary = 'Run a transaction: if every compare holds run the success operations, else the failure ones.'
  static override description = [
    'Compares: value(KEY) = V, version(KEY) > N, create(KEY) < N, mod(KEY) != N, exists(KEY) = true|false',
    '(operators = != > <). Operations: put KEY VALUE, get KEY [--prefix] [--limit N] [--keys-only] [--count-only],',
    'del KEY [--prefix]. Quote keys or values with spaces. All writes of the transaction share one revision.',
    'Without flags, on a terminal, it asks for the compares and operations one per line;',
    'without a terminal it needs the flags. Output (-w): table on a terminal (a sentence per operation, values',
    'escaped); simple otherwise, as etcdctl (SUCCESS or FAILURE, then per operation OK, the count deleted, or key and',
    'value lines with the exact bytes); json as etcdctl\'s (bytes base64); fields. --json prints raftctl\'s result object.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> kv txn --compare \'value(config/mode) = blue\' --success \'put config/mode green\' --failure \'get config/mode\'',
    '<%= config.bin %> kv txn --compare \'exists(locks/db) = false\' --success \'put locks/db me\'',
    '<%= config.bin %> kv txn --compare \'version(counter) > 2\' --success \'del counter\' --json',
    '<%= config.bin %> kv txn',
  ]

  static override flags = {
    compare: Flags.string({char: 'c', summary: 'A condition, e.g. \'value(k) = v\' or \'version(k) > 2\' (repeatable).', multiple: true}),
    success: Flags.string({char: 's', summary: 'An operation run when every compare holds, e.g. \'put k v\' (repeatable).', multiple: true}),
    failure: Flags.string({char: 'f', summary: 'An operation run otherwise, e.g. \'get k\' (repeatable).', multiple: true}),
    ...writeOutFlag,
    ...hexFlag,
  }

  public async run(): Promise<TxnResult> {
    const {flags} = await this.parse(KvTxn)
    const given = [flags.compare, flags.success, flags.failure].some((l) => l !== undefined && l.length > 0)
    let txn
    if (given) {
      txn = {compare: (flags.compare ?? []).map(parseCompare), success: (flags.success ?? []).map(parseOp), failure: (flags.failure ?? []).map(parseOp)}
    } else if (isInteractive()) {
      txn = await promptTxn()
    } else {
      throw new UsageError(`kv txn needs --compare, --success or --failure when no terminal is attached (see ${commandLine(this.config, ['help', 'kv', 'txn'])})`)
    }
    if (txn.success.length === 0 && txn.failure.length === 0) throw new Error('the transaction has no operations; give --success or --failure')
    const format = this.outputFormat()
    const res = await withClient(this.endpoints, this.timeoutMs, (c) => c.txn(txn))
    if (format !== 'result') emit(format, txnView, {res, hex: flags.hex})
    return {succeeded: res.succeeded, revision: res.header?.revision ?? 0, responses: res.responses.map(opResult)}
  }
}

function opResult(r: ResponseOp): TxnOpResult {
  if (r.responsePut !== undefined) return {op: 'put', revision: r.responsePut.header?.revision ?? 0}
  if (r.responseDeleteRange !== undefined) return {op: 'del', deleted: r.responseDeleteRange.deleted}
  const g = r.responseRange
  return {op: 'get', count: g?.count ?? 0, more: g?.more ?? false, kvs: (g?.kvs ?? []).map(kvToJson)}
}
