/**
 * EtcdctlText, which makes recorded etcdctl output the same on every run: placeholders for ids,
 * ports, durations and status values, tables drawn again as etcdctl draws them, and member lists
 * in placeholder order. Runs without etcd.
 */
import {expect} from 'chai'
import {EtcdctlText, parseTable, renderTable} from './etcdctl_text.js'

const E1 = 0x8e9e05c52164694dn
const M1 = 0xfedcba98765432n // 14 hex digits: etcdctl pads it to 16 where it uses %16x
const CLUSTER = 0xcdf818194e3a8c32n

function text(): EtcdctlText {
  const t = new EtcdctlText()
  t.learn(CLUSTER, '3.4.23', [
    {ID: E1, name: 'e1', peerURLs: ['http://127.0.0.1:40001'], clientURLs: ['http://127.0.0.1:40002'], isLearner: false},
    {ID: M1, name: '', peerURLs: ['http://127.0.0.1:1'], clientURLs: [], isLearner: true},
  ])
  return t
}

describe('compat: etcdctl output normalization', () => {
  it('draws a table exactly as etcdctl does: header centred, cells right-aligned', () => {
    const table = [
      '+------------------+---------+------+',
      '|        ID        | STATUS  | NAME |',
      '+------------------+---------+------+',
      '| 8e9e05c52164694d | started |   e1 |',
      '+------------------+---------+------+',
    ]
    expect(renderTable(parseTable(table))).to.deep.equal(table)
  })

  it('replaces ids, ports, durations and status values, and redraws tables around them', () => {
    const t = text()
    expect(t.stdout(`Member  fedcba98765432 added to cluster ${CLUSTER.toString(16)}\n`)).to.equal('Member <ID:m1> added to cluster <CLUSTER_ID>\n')
    expect(t.stdout(`{"header":{"cluster_id":${CLUSTER},"member_id":${E1}},"took":"1.5ms"}`))
      .to.equal('{"header":{"cluster_id":<CLUSTER_ID>,"member_id":<ID:e1>},"took":"<DURATION>"}')
    expect(t.stdout('127.0.0.1:40002, 8e9e05c52164694d, 3.4.23, 20 kB, true, false, 2, 11, 11, \n'))
      .to.equal('127.0.0.1:<CLIENT_PORT:e1>, <ID:e1>, <VERSION>, <DB_SIZE>, true, false, 2, <RAFT_INDEX>, <RAFT_INDEX>, \n')
    expect(t.stdout([
      '+-----------------+-----------+',
      '|    ENDPOINT     |   TOOK    |',
      '+-----------------+-----------+',
      '| 127.0.0.1:40002 | 1.77049ms |',
      '+-----------------+-----------+',
    ].join('\n'))).to.equal([
      '+----------------------------+------------+',
      '|          ENDPOINT          |    TOOK    |',
      '+----------------------------+------------+',
      '| 127.0.0.1:<CLIENT_PORT:e1> | <DURATION> |',
      '+----------------------------+------------+',
    ].join('\n'))
  })

  it('refuses a table it would not draw the same way', () => {
    expect(() => text().stdout('+----+\n| ID |\n+----+\n| x  |\n+----+')).to.throw('etcdctl drew a table renderTable does not reproduce')
  })

  it('puts member lists in placeholder order in every format, and drops clientv3 log lines', () => {
    const t = text()
    expect(t.sortMembers('<ID:m1>, unstarted\n<ID:e1>, started\n')).to.equal('<ID:e1>, started\n<ID:m1>, unstarted\n')
    expect(t.sortMembers('"members":[{"ID":<ID:m1>,"x":[1]},{"ID":<ID:e1>}]}')).to.equal('"members":[{"ID":<ID:e1>},{"ID":<ID:m1>,"x":[1]}]}')
    expect(t.sortMembers('"RaftTerm" : 2\n"ID" : <ID:m1>\n"Name" : ""\n\n"ID" : <ID:e1>\n"Name" : "e1"\n\n'))
      .to.equal('"RaftTerm" : 2\n"ID" : <ID:e1>\n"Name" : "e1"\n\n"ID" : <ID:m1>\n"Name" : ""\n\n')
    expect(t.sortMembers('ETCD_INITIAL_CLUSTER="n2=http://a,e1=http://b"')).to.equal('ETCD_INITIAL_CLUSTER="e1=http://b,n2=http://a"')
    expect(t.stderr('{"level":"warn","ts":"x"}\nError: etcdserver: member not found\n')).to.equal('Error: etcdserver: member not found\n')
  })
})
