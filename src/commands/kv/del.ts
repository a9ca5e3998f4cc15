import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {withClient} from '../../cli/kv_client.js'
import {checkRangeKey, rangeFlags} from '../../cli/kv_range.js'

/** What `raftctl kv del` prints with --json. */
export interface DelResult {
  /** Number of keys deleted. */
  readonly deleted: number
  /** The store revision after the delete. */
  readonly revision: number
}

export default class KvDel extends BaseCommand<typeof KvDel> {
  static override summary = 'Delete a key, every key with a prefix, every key from a key on, or the whole key space.'
  static override description = [
    'Deletes through the leader and prints how many keys were deleted (0 when none matched; that is not an error).',
    '`kv del "" --prefix` (or --from-key) deletes every key.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> kv del config/db-url',
    '<%= config.bin %> kv del config/ --prefix',
    '<%= config.bin %> kv del locks/ --prefix --json',
    '<%= config.bin %> kv del config/m --from-key',
  ]

  static override args = {
    key: textArg({description: 'The key (or the prefix with --prefix, the first key with --from-key).', required: true}),
  }

  static override flags = rangeFlags('Delete')

  public async run(): Promise<DelResult> {
    const {args, flags} = await this.parse(KvDel)
    checkRangeKey(args.key, flags)
    const res = await withClient(this.endpoints, this.timeoutMs, (c) => c.deleteRange(args.key, {prefix: flags.prefix, fromKey: flags['from-key']}))
    const result: DelResult = {deleted: res.deleted, revision: res.header?.revision ?? 0}
    this.log(`deleted ${result.deleted} ${result.deleted === 1 ? 'key' : 'keys'} (revision ${result.revision})`)
    return result
  }
}
