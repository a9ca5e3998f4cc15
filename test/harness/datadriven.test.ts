// Tests of the golden-file runner itself: parsing of command lines and files, the
// double-separator form for output with blank lines, mismatch detection and rewrite mode.
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {expect} from 'chai'
import {
  findArg, parseCommandLine, parseDataDriven, runDataDriven, runDataDrivenText, type TestData,
} from './datadriven.js'

const echoInput = (td: TestData): string => td.input

describe('datadriven runner', () => {
  describe('parseCommandLine', () => {
    it('parses bare, key=value and key=(list) arguments', () => {
      const {cmd, args} = parseCommandLine('committed cfg=(1,2,3) autoleave=true 1 idx=(100, 101 ,_)')
      expect(cmd).to.equal('committed')
      expect(args).to.deep.equal([
        {key: 'cfg', vals: ['1', '2', '3']},
        {key: 'autoleave', vals: ['true']},
        {key: '1', vals: []},
        {key: 'idx', vals: ['100', '101', '_']},
      ])
    })

    it('parses an empty list and a command without arguments', () => {
      expect(parseCommandLine('vote cfg=()').args).to.deep.equal([{key: 'cfg', vals: []}])
      expect(parseCommandLine('  leave-joint  ')).to.deep.equal({cmd: 'leave-joint', args: []})
    })

    it('refuses unbalanced parentheses and keyless arguments', () => {
      expect(() => parseCommandLine('x cfg=(1,2', 'f:3')).to.throw('f:3: unbalanced "("')
      expect(() => parseCommandLine('x cfg=1,2)', 'f:3')).to.throw('f:3: unbalanced ")"')
      expect(() => parseCommandLine('x =1', 'f:3')).to.throw('has no key')
    })

    it('finds arguments by key', () => {
      const td = parseDataDriven('cmd a=(1) b\n----\n', 'f').cases[0].td
      expect(findArg(td, 'a')?.vals).to.deep.equal(['1'])
      expect(findArg(td, 'b')?.vals).to.deep.equal([])
      expect(findArg(td, 'c')).to.equal(undefined)
    })
  })

  describe('parseDataDriven', () => {
    it('reads cases, inputs, expected outputs and positions; skips comments', () => {
      const text = '# comment\n\nsimple\nv1 l2\n----\nvoters=(1)\n1: x\n\n# another\nleave-joint\n----\nerr\n'
      const {cases} = parseDataDriven(text, 'f.txt')
      expect(cases.map((c) => c.td)).to.deep.equal([
        {pos: 'f.txt:3', cmd: 'simple', args: [], input: 'v1 l2', expected: 'voters=(1)\n1: x\n'},
        {pos: 'f.txt:10', cmd: 'leave-joint', args: [], input: '', expected: 'err\n'},
      ])
    })

    it('reads multi-line expected output with blank lines in the double-separator form', () => {
      const text = 'cmd\nin\n----\n----\nline 1\n\nline 3\n\n----\n----\n\nnext\n----\nok\n'
      const {cases} = parseDataDriven(text, 'f')
      expect(cases[0].td.expected).to.equal('line 1\n\nline 3\n\n')
      expect(cases[1].td).to.deep.include({cmd: 'next', expected: 'ok\n'})
    })

    it('reads an empty expected output and a continued command line', () => {
      const {cases} = parseDataDriven('a x=1 \\\n  y=2\n----\n\nb\n----\n', 'f')
      expect(cases[0].td).to.deep.include({cmd: 'a', expected: ''})
      expect(cases[0].td.args).to.deep.equal([{key: 'x', vals: ['1']}, {key: 'y', vals: ['2']}])
      expect(cases[1].td).to.deep.include({cmd: 'b', expected: ''})
    })

    it('refuses a case without separator or an unterminated double-separator block', () => {
      expect(() => parseDataDriven('cmd\ninput\n', 'f')).to.throw('f:1: test case is missing its "----" separator')
      expect(() => parseDataDriven('cmd\n----\n----\nout\n', 'f')).to.throw('missing its closing')
    })
  })

  describe('running', () => {
    it('passes when every output matches, adding a missing final newline', () => {
      const text = 'e\nhello\n----\nhello\n\ne\n----\n'
      expect(runDataDrivenText(text, 'f', echoInput, true)).to.equal(text)
    })

    it('detects a mismatch and names the position and command', () => {
      const text = 'e\nhello\n----\nhello\n\ne two\nbye\n----\nhello\n'
      expect(() => runDataDrivenText(text, 'f', echoInput, true)).to.throw(/f:6: output of "e two" differs/)
    })

    it('detects output that lacks an expected blank line', () => {
      const text = 'e\n----\n----\na\n\nb\n----\n----\n'
      expect(() => runDataDrivenText(text, 'f', () => 'a\nb\n', true)).to.throw(/differs/)
      expect(runDataDrivenText(text, 'f', () => 'a\n\nb', true)).to.equal(text)
    })

    it('rewrites outputs, choosing the double-separator form for blank lines, keeping comments', () => {
      const text = '# c\ne\nx\n----\nold\n\n# d\ne\ny\n----\n----\nold\n\nold\n----\n----\n'
      const out = runDataDrivenText(text, 'f', (td) => (td.input === 'x' ? 'new\n\nnew' : 'one'), false)
      expect(out).to.equal('# c\ne\nx\n----\n----\nnew\n\nnew\n----\n----\n\n# d\ne\ny\n----\none\n')
      expect(runDataDrivenText(out, 'f', (td) => (td.input === 'x' ? 'new\n\nnew' : 'one'), true)).to.equal(out)
    })

    it('rewrites the file with REWRITE=1 and checks it otherwise', () => {
      const dir = mkdtempSync(join(tmpdir(), 'datadriven-'))
      const saved = process.env.REWRITE
      try {
        const path = join(dir, 't.txt')
        writeFileSync(path, 'e\nabc\n----\nwrong\n')
        expect(() => runDataDriven(path, echoInput)).to.throw(/differs/)
        process.env.REWRITE = '1'
        runDataDriven(path, echoInput)
        expect(readFileSync(path, 'utf8')).to.equal('e\nabc\n----\nabc\n')
        delete process.env.REWRITE
        runDataDriven(path, echoInput)
      } finally {
        if (saved === undefined) delete process.env.REWRITE
        else process.env.REWRITE = saved
        rmSync(dir, {recursive: true, force: true})
      }
    })
  })
})
