/**
 * The node's transport log lines: a peer going down is one warning (not one per reconnect), and a
 * peer whose calls keep being refused (a removed member) is one warning per interval.
 */
import {expect} from 'chai'
import type {NodeLogger} from '../../src/server/logger.js'
import {REFUSAL_REPEAT_MS, transportLogger} from '../../src/server/transport_log.js'

function capture(): {log: NodeLogger, lines: Array<[string, Record<string, unknown>, string]>} {
  const lines: Array<[string, Record<string, unknown>, string]> = []
  const at = (level: string) => (fields: Record<string, unknown>, msg: string): void => { lines.push([level, fields, msg]) }
  return {log: {debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error')} as unknown as NodeLogger, lines}
}

describe('server/transport_log', () => {
  it('warns once when a peer becomes unreachable and once when it is back', () => {
    const {log, lines} = capture()
    const t = transportLogger(log)
    for (let i = 0; i < 3; i++) t('peer-unreachable', {peer: 2, code: 'UNAVAILABLE'})
    t('peer-stream-accepted', {peer: 2})
    t('peer-unreachable', {peer: 2, code: 'UNAVAILABLE'})
    expect(lines.map(([level, f]) => `${level} ${f.event}`)).to.deep.equal([
      'warn peer-unreachable', 'debug peer-unreachable', 'debug peer-unreachable', 'info peer-stream-accepted', 'warn peer-unreachable',
    ])
    expect(lines[0][2]).to.equal('peer 2 is unreachable')
  })

  it('warns about a refused peer once per interval, with the sender and the reason', () => {
    const {log, lines} = capture()
    let now = 1000
    const t = transportLogger(log, () => now)
    const refused = {call: 'stream', peer: 3, code: 'PERMISSION_DENIED', reason: 'node 3 is not a member'}
    t('peer-refused', refused)
    now += 2000
    t('peer-refused', refused)
    t('peer-refused', {...refused, peer: 4})
    now += REFUSAL_REPEAT_MS
    t('peer-refused', refused)
    t('peer-stream-refused', {peer: 1, code: 'PERMISSION_DENIED', reason: 'no'})
    expect(lines.map(([level, f]) => `${level} ${f.event} ${f.peer}`)).to.deep.equal([
      'warn peer-refused 3', 'debug peer-refused 3', 'warn peer-refused 4', 'warn peer-refused 3', 'warn peer-stream-refused 1',
    ])
    expect(lines[0][1]).to.include({event: 'peer-refused', peer: 3, code: 'PERMISSION_DENIED', call: 'stream'})
    expect(lines[0][2]).to.equal('refused a stream call from node 3: node 3 is not a member')
  })
})
