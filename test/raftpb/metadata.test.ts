/**
 * The protocol's metadata keys are defined once (src/raftpb/metadata.ts) and imported by both
 * the server that sets them and the client that reads them: no other file spells them out.
 */
import {expect} from 'chai'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {relative} from 'node:path'
import * as client from '../../src/client/rpc.js'
import {
  DETAIL_KEY, FORCE_KEY, FORWARDED_KEY, LEADER_HINT_KEY, MEMBER_ID_KEY, REQUIRE_LEADER_KEY, RETRY_SAFE_KEY,
} from '../../src/raftpb/metadata.js'
import * as server from '../../src/server/errors.js'
import {listTsFiles} from '../architecture/deps.js'

const SRC = fileURLToPath(new URL('../../src', import.meta.url))

describe('raftpb/metadata: the protocol metadata keys', () => {
  it('are the ones the server sets and the client reads', () => {
    expect([server.LEADER_HINT_KEY, server.RETRY_SAFE_KEY]).to.deep.equal([LEADER_HINT_KEY, RETRY_SAFE_KEY])
    expect([client.LEADER_HINT_KEY, client.RETRY_SAFE_KEY]).to.deep.equal([LEADER_HINT_KEY, RETRY_SAFE_KEY])
  })

  it('are spelled out in src/raftpb/metadata.ts only', () => {
    const spelled = listTsFiles(SRC)
      .filter((f) => [LEADER_HINT_KEY, RETRY_SAFE_KEY, DETAIL_KEY, MEMBER_ID_KEY, FORCE_KEY, REQUIRE_LEADER_KEY, FORWARDED_KEY]
        .some((k) => readFileSync(f, 'utf8').includes(`'${k}'`)))
      .map((f) => relative(SRC, f))
    expect(spelled).to.deep.equal(['raftpb/metadata.ts'])
  })
})
