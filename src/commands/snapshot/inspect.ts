import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {checkInt} from '../../cli/kv_client.js'
import {emit, writeOutFlag} from '../../cli/output.js'
import {checkSnapshotFile, type InspectResult, inspectView, OfflineCommand} from '../../cli/snapshot_command.js'
import {bytesToString} from '../../client/index.js'
import {inspectSnapshotFile} from '../../kv/index.js'

export type {InspectResult} from '../../cli/snapshot_command.js'

export default class SnapshotInspect extends OfflineCommand {
  static override summary = 'Describe a snapshot file (offline): what it covers, its membership, history and checksum.'
  static override description = [
    'Reads the whole file without contacting any node and prints its index, term, configuration',
    '(voters, learners, learners_next, voters_outgoing, auto_leave), members, key count, the revisions whose history',
    'it holds (compact revision .. revision), its number of history records and of leases, size and whether its SHA-256 checksum',
    'matches. A truncated or malformed file is one error line and exit code 1;',
    'a file whose checksum does not match is described, then reported the same way.',
    'Output (-w): tables on a terminal; simple otherwise, as etcdctl\'s snapshot status: one line "sha256, revision,',
    'key count, size in bytes", then with --keys one key per line (exact bytes); fields; json (as --json).',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> snapshot inspect backup.snap',
    '<%= config.bin %> snapshot inspect backup.snap --keys 20',
    '<%= config.bin %> snapshot inspect backup.snap --json',
  ]

  static override args = {
    file: textArg({description: 'The snapshot file.', required: true}),
  }

  static override flags = {
    keys: Flags.integer({char: 'k', summary: 'Also list the keys of the first N history records (oldest first).'}),
    ...writeOutFlag,
  }

  public async run(): Promise<InspectResult> {
    const {args, flags} = await this.parse(SnapshotInspect)
    checkInt('keys', flags.keys, 0)
    const format = this.outputFormat()
    checkSnapshotFile(args.file)
    const i = await inspectSnapshotFile(args.file, {keys: flags.keys ?? 0})
    const cs = i.confState
    const result: InspectResult = {
      path: i.path, size: i.size, formatVersion: i.formatVersion, clusterId: i.clusterId, index: i.index, term: i.term,
      voters: cs.voters, learners: cs.learners, learnersNext: cs.learnersNext, votersOutgoing: cs.votersOutgoing,
      autoLeave: cs.autoLeave, members: i.members, keyCount: i.keyCount, revision: i.revision,
      compactRevision: i.compactRevision, records: i.records, leaseCount: i.leaseCount, checksum: i.checksum, checksumOk: i.checksumOk,
      ...(flags.keys === undefined ? {} : {keys: i.firstKeys.map(bytesToString)}),
    }
    if (format !== 'result') emit(format, inspectView, {result, keys: flags.keys === undefined ? undefined : i.firstKeys})
    if (!result.checksumOk) {
      process.stderr.write(`Error: snapshot file ${args.file} fails its SHA-256 checksum; it was altered or damaged and must not be restored\n`)
      process.exitCode = 1
    }
    return result
  }
}
