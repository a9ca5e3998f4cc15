import {Flags} from '@oclif/core'
import {textArg} from '../cli/args.js'
import {BaseCommand} from '../cli/base.js'
import {withClient} from '../cli/kv_client.js'
import {UsageError} from '../cli/member_args.js'

/** What `raftctl compact` prints with --json. */
export interface CompactResult {
  /** The revision the history was compacted to. */
  readonly compacted: number
  /** The store revision when the compaction was applied. */
  readonly revision: number
  readonly physical: boolean
}

export default class Compact extends BaseCommand<typeof Compact> {
  static override summary = 'Discard the key history older than a revision.'
  static override description = [
    'Compacts the history of every key below REVISION, as etcd\'s compaction does: afterwards `kv get --rev` and',
    '`kv watch --rev` of an older revision are refused as compacted, while the latest value of each key and every',
    'revision from REVISION on stay readable. The compaction goes through Raft, so every member compacts the same',
    'revision; members then delete the old records in the background. --physical waits until the answering member',
    'has deleted them. A revision already compacted, or newer than the current one, is refused.',
    'Prints "compacted revision REVISION", as etcdctl does.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> compact 1200',
    '<%= config.bin %> compact 1200 --physical --timeout 1m',
  ]

  static override args = {
    revision: textArg({description: 'Keep the history from this revision on (a positive integer).', required: true}),
  }

  static override flags = {
    physical: Flags.boolean({summary: 'Wait until the answering member has deleted the compacted history.'}),
  }

  public async run(): Promise<CompactResult> {
    const {args, flags} = await this.parse(Compact)
    const revision = /^[0-9]{1,16}$/.test(args.revision) ? Number(args.revision) : Number.NaN
    if (!Number.isSafeInteger(revision) || revision < 1) throw new UsageError(`revision "${args.revision}" is not a positive integer`)
    const res = await withClient(this.endpoints, this.timeoutMs, (c) => c.compact(revision, {physical: flags.physical}))
    this.log(`compacted revision ${revision}`)
    return {compacted: revision, revision: res.header?.revision ?? 0, physical: flags.physical}
  }
}
