import {Flags} from '@oclif/core'
import {textArg} from '../../cli/args.js'
import {commandLine} from '../../cli/invocation.js'
import {parseUrl} from '../../cli/member_args.js'
import {checkSnapshotFile, OfflineCommand} from '../../cli/snapshot_command.js'
import {confirmRisky} from '../../cli/prompt.js'
import {checkRestoreOptions, parseInitialCluster, restoreDataDir, type RestoreResult} from '../../kv/restore_data_dir.js'
import {LeaseStore} from '../../lease/index.js'

/** What `raftctl snapshot restore` prints with --json. */
export interface SnapshotRestoreResult extends RestoreResult {
  /** The command that starts the restored node, as one shell line (run as printed) and as raftctl's arguments. */
  readonly startCommand: string
  readonly startArgs: string[]
}

export default class SnapshotRestore extends OfflineCommand {
  static override summary = 'Build a new data dir from a backup, to start a NEW cluster from it (offline).'
  static override description = [
    'Verifies the snapshot file, then creates --data-dir for node --id of a new cluster whose members are',
    '--initial-cluster: the backup\'s keys and revision, with the backup\'s membership replaced by the new one',
    '(every listed node a voter). Run it once per node, with the same file and the same --initial-cluster on each,',
    'then start every node with the `raftctl server start` line it prints (the same --id, --data-dir and',
    '--initial-cluster; --client-url puts the node\'s client address in that line).',
    'It refuses a --data-dir that is not empty. It asks for confirmation on a terminal; --yes skips the question,',
    'and without a terminal --yes is required.',
  ].join(' ')

  static override examples = [
    '<%= config.bin %> snapshot restore backup.snap --data-dir n1 --id 1 --initial-cluster 1=127.0.0.1:2380,2=127.0.0.1:2382,3=127.0.0.1:2384 --client-url 127.0.0.1:2379',
    '<%= config.bin %> snapshot restore backup.snap --data-dir /var/lib/raftctl --id 2 --initial-cluster 1=10.0.0.1:2380,2=10.0.0.2:2380,3=10.0.0.3:2380 --yes',
  ]

  static override args = {
    file: textArg({description: 'The snapshot file (from `raftctl snapshot save`).', required: true}),
  }

  static override flags = {
    'data-dir': Flags.string({char: 'd', summary: 'The data dir to create (must not exist or be empty).', required: true}),
    id: Flags.integer({summary: 'This node\'s id in the new cluster (must be in --initial-cluster).', required: true}),
    'initial-cluster': Flags.string({summary: 'The members of the new cluster, id=host:port,... (their peer addresses).', required: true}),
    'client-url': Flags.string({summary: 'host:port where this node will serve clients: its --listen-client in the printed start line.'}),
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.'}),
  }

  public async run(): Promise<SnapshotRestoreResult> {
    const {args, flags} = await this.parse(SnapshotRestore)
    const options = {
      snapshotPath: args.file, dataDir: flags['data-dir'], nodeId: flags.id, initialCluster: parseInitialCluster(flags['initial-cluster']),
      leases: LeaseStore.openOn,
    }
    const clientUrl = flags['client-url'] === undefined ? undefined : parseUrl('--client-url', flags['client-url'])
    checkSnapshotFile(args.file)
    checkRestoreOptions(options)
    await confirmRisky('snapshot restore',
      `Create ${flags['data-dir']} for node ${flags.id} of a NEW cluster from ${args.file}? Its nodes will not talk to the old cluster.`, flags.yes)
    const r = await restoreDataDir(options)
    const peer = options.initialCluster.find((m) => m.id === r.nodeId)!.peerUrl
    const startArgs = [
      'server', 'start', '--id', String(r.nodeId), '--data-dir', r.dataDir,
      '--initial-cluster', options.initialCluster.map((m) => `${m.id}=${m.peerUrl}`).join(','),
      '--listen-peer', peer, ...(clientUrl === undefined ? [] : ['--listen-client', clientUrl]),
    ]
    const startCommand = commandLine(this.config, startArgs)
    this.log(`restored ${args.file} into ${r.dataDir}: node ${r.nodeId} of a new cluster (cluster id ${r.clusterId}), ` +
      `voters (${r.voters.join(' ')}), ${r.keyCount} keys at revision ${r.revision}, ${r.leaseCount} leases, snapshot index ${r.index} term ${r.term}`)
    this.log(`start it with: ${startCommand}`)
    if (clientUrl === undefined) this.log('(it serves clients on 127.0.0.1:2379 unless you add --listen-client host:port)')
    return {...r, startCommand, startArgs}
  }
}
