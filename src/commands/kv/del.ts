import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {BaseCommand} from '../../cli/base.js'
import {withClient} from '../../cli/kv_client.js'

/** What `raftctl kv del` prints with --json. */
export interface DelResult {
  /** Number of keys deleted. */
  readonly deleted: number
  /** The store revision after the delete. */
  readonly revision: number
}

export default class KvDel extends BaseCommand<typeof KvDel> {
  static override summary = 'Delete a key, or every key with a prefix.'
  static override description =
    'Deletes through the leader and prints how many keys were deleted (0 when none matched; that is not an error).'

  static override examples = [
    '<%= config.bin %> kv del config/db-url',
    '<%= config.bin %> kv del config/ --prefix',
    '<%= config.bin %> kv del locks/ --prefix --json',
  ]

  static override args = {
    key: textArg({description: 'The key (or the prefix with --prefix).', required: true}),
  }

  static override flags = {
    prefix: Flags.boolean({char: 'p', summary: 'Delete every key that starts with KEY.'}),
  }

  public async run(): Promise<DelResult> {
    const {args, flags} = await this.parse(KvDel)
    if (args.key === '') throw new Error('the key is empty; give a non-empty key (use --prefix with a prefix)')
    const res = await withClient(this.endpoints, this.timeoutMs, (c) => c.deleteRange(args.key, {prefix: flags.prefix}))
    const result: DelResult = {deleted: res.deleted, revision: res.header?.revision ?? 0}
    this.log(`deleted ${result.deleted} ${result.deleted === 1 ? 'key' : 'keys'} (revision ${result.revision})`)
    return result
  }
}
