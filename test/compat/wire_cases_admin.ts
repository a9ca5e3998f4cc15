/**
 * Representative messages of etcd's Cluster, Maintenance, Auth, Lock and Election services for
 * the wire test, in the two shapes wire_cases.ts describes. The Lock and Election cases are read
 * through Debian's etcd 3.4 protos (the etcd3 client ships none for them), where enum names are
 * etcd's own.
 */
import {Permission_Type as PermType} from '../../src/generated/etcd/authpb/auth.js'
import {AuthRoleGrantPermissionRequest, AuthStatusResponse, AuthUserAddRequest, AuthUserGrantRoleRequest} from '../../src/generated/etcd/etcdserverpb/auth.js'
import {MemberAddRequest, MemberAddResponse, MemberListRequest} from '../../src/generated/etcd/etcdserverpb/cluster.js'
import {
  AlarmRequest, AlarmRequest_AlarmAction as AlarmAction, AlarmResponse, AlarmType, HashKVResponse, MoveLeaderRequest,
  SnapshotResponse, StatusResponse,
} from '../../src/generated/etcd/etcdserverpb/maintenance.js'
import {CampaignResponse, LeaderResponse, ProclaimRequest} from '../../src/generated/etcd/v3electionpb/v3election.js'
import {LockRequest, LockResponse} from '../../src/generated/etcd/v3lockpb/v3lock.js'
import {b, HEADER, LEASE_ID, MEMBER_ID, type WireCase} from './wire_cases.js'

/** A learner's id above 2^63 (uint64 only). */
const LEARNER_ID = 0xfedcba9876543210n

const learner = {
  ours: {ID: LEARNER_ID, name: 'n4', peerURLs: ['http://127.0.0.1:2480', 'http://10.0.0.4:2380'], clientURLs: ['http://127.0.0.1:2479'], isLearner: true},
  etcd3: {ID: String(LEARNER_ID), name: 'n4', peerURLs: ['http://127.0.0.1:2480', 'http://10.0.0.4:2380'], clientURLs: ['http://127.0.0.1:2479'], isLearner: true},
}

const cluster: WireCase[] = [{
  name: 'Cluster MemberAdd request for a learner',
  method: 'etcdserverpb.Cluster/MemberAdd', side: 'request', codec: MemberAddRequest,
  ours: {peerURLs: learner.ours.peerURLs, isLearner: true} satisfies MemberAddRequest,
  etcd3: {peerURLs: learner.etcd3.peerURLs, isLearner: true},
}, {
  name: 'Cluster MemberAdd response with a member id above 2^63',
  method: 'etcdserverpb.Cluster/MemberAdd', side: 'response', codec: MemberAddResponse,
  ours: {header: HEADER.ours, member: learner.ours, members: [learner.ours, {...learner.ours, ID: MEMBER_ID, isLearner: false}]} satisfies MemberAddResponse,
  etcd3: {header: HEADER.etcd3, member: learner.etcd3, members: [learner.etcd3, {...learner.etcd3, ID: String(MEMBER_ID), isLearner: false}]},
}, {
  name: 'Cluster MemberList request asking for a linearizable list (etcd 3.5)',
  method: 'etcdserverpb.Cluster/MemberList', side: 'request', codec: MemberListRequest,
  ours: {linearizable: true} satisfies MemberListRequest,
  etcd3: {linearizable: true},
}]

const maintenance: WireCase[] = [{
  name: 'Maintenance Status response, every field',
  method: 'etcdserverpb.Maintenance/Status', side: 'response', codec: StatusResponse,
  ours: {header: HEADER.ours, version: '3.4.23', dbSize: 20480, leader: MEMBER_ID, raftIndex: 9007199254740991, raftTerm: 42,
    raftAppliedIndex: 9007199254740990, errors: ['memberID:1 alarm:NOSPACE'], dbSizeInUse: 16384, isLearner: true} satisfies StatusResponse,
  etcd3: {header: HEADER.etcd3, version: '3.4.23', dbSize: '20480', leader: String(MEMBER_ID), raftIndex: '9007199254740991', raftTerm: '42',
    raftAppliedIndex: '9007199254740990', errors: ['memberID:1 alarm:NOSPACE'], dbSizeInUse: '16384', isLearner: true},
}, {
  name: 'Maintenance Alarm request',
  method: 'etcdserverpb.Maintenance/Alarm', side: 'request', codec: AlarmRequest,
  ours: {action: AlarmAction.DEACTIVATE, memberID: LEARNER_ID, alarm: AlarmType.NOSPACE} satisfies AlarmRequest,
  etcd3: {action: 'Deactivate', memberID: String(LEARNER_ID), alarm: 'Nospace'},
}, {
  name: 'Maintenance Alarm response',
  method: 'etcdserverpb.Maintenance/Alarm', side: 'response', codec: AlarmResponse,
  ours: {header: HEADER.ours, alarms: [{memberID: LEARNER_ID, alarm: AlarmType.CORRUPT}]} satisfies AlarmResponse,
  etcd3: {header: HEADER.etcd3, alarms: [{memberID: String(LEARNER_ID), alarm: 'Corrupt'}]},
}, {
  name: 'Maintenance HashKV response with the largest uint32 hash',
  method: 'etcdserverpb.Maintenance/HashKV', side: 'response', codec: HashKVResponse,
  ours: {header: HEADER.ours, hash: 4294967295, compactRevision: 17} satisfies HashKVResponse,
  etcd3: {header: HEADER.etcd3, hash: 4294967295, compact_revision: '17'},
}, {
  name: 'Maintenance Snapshot chunk',
  method: 'etcdserverpb.Maintenance/Snapshot', side: 'response', codec: SnapshotResponse,
  ours: {header: HEADER.ours, remainingBytes: 1 << 20, blob: Buffer.from([0, 1, 0xfe, 0xff])} satisfies SnapshotResponse,
  etcd3: {header: HEADER.etcd3, remaining_bytes: String(1 << 20), blob: Buffer.from([0, 1, 0xfe, 0xff])},
}, {
  name: 'Maintenance MoveLeader request to a member id above 2^63',
  method: 'etcdserverpb.Maintenance/MoveLeader', side: 'request', codec: MoveLeaderRequest,
  ours: {targetID: LEARNER_ID} satisfies MoveLeaderRequest,
  etcd3: {targetID: String(LEARNER_ID)},
}]

const auth: WireCase[] = [{
  name: 'Auth RoleGrantPermission request (authpb.Permission over a range)',
  method: 'etcdserverpb.Auth/RoleGrantPermission', side: 'request', codec: AuthRoleGrantPermissionRequest,
  ours: {name: 'ops', perm: {permType: PermType.READWRITE, key: b('cfg/'), rangeEnd: b('cfg0')}} satisfies AuthRoleGrantPermissionRequest,
  etcd3: {name: 'ops', perm: {permType: 'Readwrite', key: b('cfg/'), range_end: b('cfg0')}},
}, {
  name: 'Auth UserAdd request with options',
  method: 'etcdserverpb.Auth/UserAdd', side: 'request', codec: AuthUserAddRequest,
  ours: {name: 'ci', password: 'pw', options: {noPassword: true}} satisfies AuthUserAddRequest,
  etcd3: {name: 'ci', password: 'pw', options: {no_password: true}},
}, {
  name: 'Auth UserGrantRole request (field `user`, not `name`)',
  method: 'etcdserverpb.Auth/UserGrantRole', side: 'request', codec: AuthUserGrantRoleRequest,
  ours: {user: 'ci', role: 'ops'} satisfies AuthUserGrantRoleRequest,
  etcd3: {user: 'ci', role: 'ops'},
}, {
  name: 'Auth AuthStatus response (etcd 3.5)',
  method: 'etcdserverpb.Auth/AuthStatus', side: 'response', codec: AuthStatusResponse,
  ours: {header: HEADER.ours, enabled: true, authRevision: 9} satisfies AuthStatusResponse,
  etcd3: {header: HEADER.etcd3, enabled: true, authRevision: '9'},
}]

/** Cases checked through the etcd3 client's protos. */
export const ADMIN_CASES: readonly WireCase[] = [...cluster, ...maintenance, ...auth]

const leaderKey = {
  ours: {name: b('leader'), key: b('leader/694d7c3a12fe1f0b'), rev: 9007199254740991, lease: LEASE_ID},
  debian: {name: b('leader'), key: b('leader/694d7c3a12fe1f0b'), rev: '9007199254740991', lease: String(LEASE_ID)},
}

/** Cases checked through Debian's etcd 3.4 protos (field `etcd3` holds that shape here). */
export const LOCK_ELECTION_CASES: readonly WireCase[] = [{
  name: 'Lock request with a lease id above 2^53',
  method: 'v3lockpb.Lock/Lock', side: 'request', codec: LockRequest,
  ours: {name: b('job'), lease: LEASE_ID} satisfies LockRequest,
  etcd3: {name: b('job'), lease: String(LEASE_ID)},
}, {
  name: 'Lock response',
  method: 'v3lockpb.Lock/Lock', side: 'response', codec: LockResponse,
  ours: {header: HEADER.ours, key: b('job/694d7c3a12fe1f0b')} satisfies LockResponse,
  etcd3: {header: HEADER.etcd3, key: b('job/694d7c3a12fe1f0b')},
}, {
  name: 'Election Campaign response with the leader key',
  method: 'v3electionpb.Election/Campaign', side: 'response', codec: CampaignResponse,
  ours: {header: HEADER.ours, leader: leaderKey.ours} satisfies CampaignResponse,
  etcd3: {header: HEADER.etcd3, leader: leaderKey.debian},
}, {
  name: 'Election Proclaim request',
  method: 'v3electionpb.Election/Proclaim', side: 'request', codec: ProclaimRequest,
  ours: {leader: leaderKey.ours, value: b('10.0.0.4:8080')} satisfies ProclaimRequest,
  etcd3: {leader: leaderKey.debian, value: b('10.0.0.4:8080')},
}, {
  name: 'Election Leader response with the leader pair',
  method: 'v3electionpb.Election/Leader', side: 'response', codec: LeaderResponse,
  ours: {header: HEADER.ours, kv: {key: b('leader/694d7c3a12fe1f0b'), createRevision: 5, modRevision: 6, version: 2, value: b('10.0.0.4:8080'), lease: LEASE_ID}} satisfies LeaderResponse,
  etcd3: {header: HEADER.etcd3, kv: {key: b('leader/694d7c3a12fe1f0b'), create_revision: '5', mod_revision: '6', version: '2', value: b('10.0.0.4:8080'), lease: String(LEASE_ID)}},
}]
