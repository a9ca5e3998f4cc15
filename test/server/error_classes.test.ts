/**
 * One error base class (issue 11 §4, STYLE.md "one error base class with a stable code"): every
 * error class in src derives from CodedError (src/raft/errors.ts, the bottom of the dependency
 * order), keeps the `code` it always had (the CLI's --json error codes and the tests rely on
 * them), is named after its class and says what went wrong in one line; and no file declares an
 * error class of its own on top of Error or repeats the name/constructor boilerplate.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {status} from '@grpc/grpc-js'
import {expect} from 'chai'
import {ValueInputError} from '../../src/cli/kv_input.js'
import {TxnSyntaxError} from '../../src/cli/kv_txn.js'
import {UsageError} from '../../src/cli/member_args.js'
import {NotConfirmedError} from '../../src/cli/prompt.js'
import {ClientError} from '../../src/client/rpc.js'
import {KvError, SnapshotFileError} from '../../src/kv/errors.js'
import {RestoreError} from '../../src/kv/restore_data_dir.js'
import {CodedError, RaftError, withCode} from '../../src/raft/errors.js'
import {EndpointError} from '../../src/raftpb/address.js'
import {WireDecodeError} from '../../src/raftpb/checked.js'
import {ConfigError} from '../../src/server/config.js'
import {NodeError} from '../../src/server/errors.js'
import {StartAborted} from '../../src/server/join.js'
import {MembershipLostError} from '../../src/server/peer_check.js'
import {LoopStoppedError} from '../../src/server/loop.js'
import {DeadlineError} from '../../src/server/wait.js'
import {DbError} from '../../src/storage/db.js'
import {
  DataDirError, DiskFaultError, ForeignDataDirError, StorageCorruptError, StorageError, StorageMisuseError,
} from '../../src/storage/errors.js'
import {PeerRefusal, TransportError} from '../../src/transport/errors.js'

const SRC = fileURLToPath(new URL('../../src', import.meta.url))

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return name === 'generated' ? [] : sources(p)
    return p.endsWith('.ts') ? [p] : []
  })
}

describe('error classes: one base with a stable code', () => {
  it('every error class outside the core derives from CodedError and keeps its code', () => {
    const cases: Array<[CodedError<string | number>, string | number, Function]> = [
      [new StorageCorruptError('/d', 'k', 'bad'), 'STORAGE_CORRUPT', StorageError],
      [new ForeignDataDirError('/d', 'cluster 7'), 'FOREIGN_DATA_DIR', StorageError],
      [new DataDirError('missing'), 'DATA_DIR', StorageError],
      [new StorageMisuseError('gap'), 'STORAGE_MISUSE', StorageError],
      [new DbError('closed'), 'DB_ERROR', StorageError],
      [new DiskFaultError('disk-full', 'writing the log of data dir /d', 'ENOSPC'), 'DISK_FAULT', StorageError],
      [new KvError('COMPACTED', 'compacted', 3), 'COMPACTED', CodedError],
      [new SnapshotFileError('truncated'), 'SNAPSHOT_CORRUPT', CodedError],
      [new RestoreError('not empty'), 'RESTORE_REFUSED', CodedError],
      [new EndpointError('no port'), 'BAD_ENDPOINT', CodedError],
      [new WireDecodeError('short'), 'WIRE_DECODE', CodedError],
      [new TransportError('CLOSED', 'closed'), 'CLOSED', CodedError],
      [new PeerRefusal(status.PERMISSION_DENIED, 'not a member', 3), 'PERMISSION_DENIED', CodedError],
      [new NodeError(status.FAILED_PRECONDITION, 'refused'), 'FAILED_PRECONDITION', CodedError],
      [new ConfigError('bad flag'), 'CONFIG_INVALID', CodedError],
      [new DeadlineError('late'), 'DEADLINE_EXCEEDED', CodedError],
      [new StartAborted('stopped'), 'START_ABORTED', CodedError],
      [new LoopStoppedError('stopping'), 'NODE_STOPPED', CodedError],
      [new MembershipLostError('REMOVED', 'node 3 was removed'), 'REMOVED', CodedError],
      [new ClientError(status.NOT_FOUND, 'gone', '127.0.0.1:1'), status.NOT_FOUND, CodedError],
      [new ValueInputError('no value'), 'BAD_VALUE_INPUT', CodedError],
      [new TxnSyntaxError('bad compare'), 'BAD_TXN', CodedError],
      [new NotConfirmedError('declined'), 'NOT_CONFIRMED', CodedError],
      [new UsageError('bad id'), 'BAD_ARGUMENT', CodedError],
    ]
    for (const [err, code, base] of cases) {
      const what = err.constructor.name
      expect(err, what).to.be.instanceOf(CodedError).and.instanceOf(base).and.instanceOf(Error)
      expect(err, what).to.not.be.instanceOf(RaftError)
      expect(err.code, what).to.equal(code)
      expect(err.name, what).to.equal(what)
      expect(err.message, what).to.match(/^[^\n]+$/)
    }
    const extra = cases.map(([e]) => e)
    expect((extra.find((e) => e instanceof KvError) as KvError).compactRevision).to.equal(3)
    expect((extra.find((e) => e instanceof PeerRefusal) as PeerRefusal).peer).to.equal(3)
    expect((extra.find((e) => e instanceof ClientError) as ClientError).codeName).to.equal('NOT_FOUND')
  })

  it('withCode makes a class with a fixed code, an optional default message, and the caller\'s base', () => {
    class Base extends CodedError {}
    class Fixed extends withCode(Base, 'FIXED') {}
    class Defaulted extends withCode(Base, 'DEFAULTED', 'the default sentence') {}
    expect(new Fixed('why')).to.be.instanceOf(Base)
    expect([new Fixed('why').code, new Fixed('why').message, new Fixed('why').name]).to.deep.equal(['FIXED', 'why', 'Fixed'])
    expect([new Defaulted().message, new Defaulted('other').message]).to.deep.equal(['the default sentence', 'other'])
  })

  it('no source file declares an error class on Error itself or sets its name by hand', () => {
    const found = sources(SRC).flatMap((file) => {
      const rel = relative(SRC, file)
      if (rel === 'raft/errors.ts') return []
      return readFileSync(file, 'utf8').split('\n').flatMap((line, i) =>
        /\bextends Error\b|this\.name\s*=/.test(line) ? [`${rel}:${i + 1}: ${line.trim()}`] : [])
    })
    expect(found).to.deep.equal([])
  })
})
