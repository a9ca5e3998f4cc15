import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {checkInt, type KeyValueJson, kvRows, kvToJson, withClient} from '../../cli/kv_client.js'
import {renderTable} from '../../cli/table.js'

/** What `raftctl kv get` prints with --json. */
export interface GetResult {
  /** The store revision the read saw. */
  readonly revision: number
  /** Keys in the range (before --limit). */
  readonly count: number
  /** True when --limit cut the result. */
  readonly more: boolean
  readonly kvs: readonly KeyValueJson[]
}

export default class KvGet extends BaseCommand<typeof KvGet> {
  static override summary = 'Read a key, or every key with a prefix.'
  static override description = [
    'Reads the latest committed value (a linearizable read through the leader) unless --serializable,',
    'which lets the member that answers serve its own state (faster, may be stale).',
    'Prints a table of key, value, version and revisions; a missing key prints one line and exits 0.',
    '--rev may only name the current revision: raftctl keeps the latest value of each key.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> kv get config/db-url',
    '<%= config.bin %> kv get config/ --prefix --limit 10',
    '<%= config.bin %> kv get config/ --prefix --keys-only',
    '<%= config.bin %> kv get config/ --prefix --count-only --json',
  ]

  static override args = {
    key: textArg({description: 'The key (or the prefix with --prefix).', required: true}),
  }

  static override flags = {
    prefix: Flags.boolean({char: 'p', summary: 'Read every key that starts with KEY.'}),
    limit: Flags.integer({char: 'l', summary: 'Return at most this many keys (0: no limit).', default: 0}),
    serializable: Flags.boolean({char: 's', summary: 'Let the answering member serve its own, possibly stale, state.'}),
    rev: Flags.integer({summary: 'Read at this revision (only the current one is kept; 0 = latest).', default: 0}),
    'keys-only': Flags.boolean({summary: 'Print only the keys.'}),
    'count-only': Flags.boolean({summary: 'Print only how many keys match.', exclusive: ['keys-only']}),
  }

  public async run(): Promise<GetResult> {
    const {args, flags} = await this.parse(KvGet)
    if (args.key === '') throw new Error('the key is empty; give a non-empty key (use --prefix with a prefix)')
    checkInt('limit', flags.limit, 0)
    checkInt('rev', flags.rev, 0)
    const res = await withClient(this.endpoints, this.timeoutMs, (c) => c.range(args.key, {
      prefix: flags.prefix, limit: flags.limit, serializable: flags.serializable, revision: flags.rev,
      keysOnly: flags['keys-only'], countOnly: flags['count-only'],
    }))
    const result: GetResult = {revision: res.header?.revision ?? 0, count: res.count, more: res.more, kvs: res.kvs.map(kvToJson)}
    this.show(args.key, flags.prefix, flags['count-only'], flags['keys-only'], result)
    return result
  }

  private show(key: string, prefix: boolean, countOnly: boolean, keysOnly: boolean, r: GetResult): void {
    const what = prefix ? `keys with prefix "${key}"` : `key "${key}"`
    if (countOnly) return this.log(`${r.count} ${r.count === 1 ? 'key matches' : 'keys match'} (${what}, revision ${r.revision})`)
    if (r.kvs.length === 0) return this.log(`no ${what} found (revision ${r.revision})`)
    const t = kvRows(r.kvs, keysOnly)
    this.log(renderTable(t.head, t.rows))
    if (r.more) this.log(`showing ${r.kvs.length} of ${r.count} keys; raise --limit to see more`)
  }
}
