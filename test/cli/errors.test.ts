import {expect} from 'chai'
import {describeError, describeParseError, errorCode} from '../../src/cli/errors.js'

/** An error shaped like oclif's flag/argument parse errors (they carry an `oclif` property). */
function oclifError(message: string): Error {
  return Object.assign(new Error(message), {oclif: {exit: 2}})
}

describe('cli errors: one line naming what was wrong', () => {
  it('keeps the reason of an oclif parse error, not just its heading', () => {
    expect(describeError(oclifError('Parsing --limit \n\tExpected an integer but received: x\nSee more help with --help')))
      .to.equal('Parsing --limit: Expected an integer but received: x')
    expect(describeError(oclifError('The following error occurred:\n  Missing required flag peer-url\nSee more help with --help')))
      .to.equal('Missing required flag peer-url')
  })

  it('says the usual file-system failures in words, naming the path', () => {
    const enoent = Object.assign(new Error('ENOENT: no such file'), {code: 'ENOENT', path: '/x/y.snap'})
    expect(describeError(enoent)).to.equal('/x/y.snap does not exist')
    const eacces = Object.assign(new Error('EACCES'), {code: 'EACCES', path: '/root/z'})
    expect(describeError(eacces)).to.equal('permission denied: /root/z')
  })

  it('prefers a gRPC error\'s details and keeps only the first line', () => {
    const grpc = Object.assign(new Error('9 FAILED_PRECONDITION: long text'), {details: 'node 4 is only 12% caught up'})
    expect(describeError(grpc)).to.equal('node 4 is only 12% caught up')
    expect(describeError(new Error('Error: first\nsecond'))).to.equal('first')
    expect(describeParseError('single line')).to.equal('single line')
  })

  it('gives stable codes for --json errors', () => {
    expect(errorCode(Object.assign(new Error('x'), {codeName: 'NOT_FOUND', code: 5}))).to.equal('NOT_FOUND')
    expect(errorCode(Object.assign(new Error('x'), {code: 'NOT_CONFIRMED'}))).to.equal('NOT_CONFIRMED')
    expect(errorCode(new Error('x'))).to.equal('ERROR')
  })
})
