/**
 * docs/operations.md quotes the errors an operator meets. This keeps the quotes true: every
 * message in the first column of the tables under "What the errors mean" must still be produced
 * by the code. A quoted message is split at its placeholders (`<id>`, `...`) and at the joints
 * where the code composes messages from parts (": ", "; ", ", ", quotes); every literal piece of 10 or
 * more characters must occur in the TypeScript sources under src/ (with string concatenations
 * joined). It also checks that the guide covers the topics issue 6 asks for.
 */
import {expect} from 'chai'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {REPO_ROOT} from '../integration/harness.js'

const GUIDE = readFileSync(join(REPO_ROOT, 'docs', 'operations.md'), 'utf8')

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) return name === 'generated' ? [] : sources(p)
    return p.endsWith('.ts') ? [readFileSync(p, 'utf8')] : []
  })
}

/** The sources with `'a' +\n 'b'` style concatenations joined, so split messages read as one. */
const CORPUS = sources(join(REPO_ROOT, 'src')).join('\n').replace(/[`'"]\s*\+\s*[`'"]/g, '')

/** The backticked messages in the first column of the error tables. */
function quotedErrors(markdown: string): string[] {
  const section = markdown.slice(markdown.indexOf('## What the errors mean'))
  const rows = section.split('\n').filter((l) => l.startsWith('| `'))
  return rows.flatMap((row) => [...row.split(' | ')[0].matchAll(/`([^`]+)`/g)].map((m) => m[1]))
}

function literalPieces(message: string): string[] {
  return message.split(/<[^>]+>|\.\.\.|: |; |, |"/).map((p) => p.trim()).filter((p) => p.length >= 10)
}

describe('docs/operations.md', () => {
  it('quotes only error messages the code still produces', () => {
    const quoted = quotedErrors(GUIDE)
    expect(quoted.length, 'error messages quoted in the guide').to.be.greaterThan(30)
    const missing = quoted.flatMap((q) => literalPieces(q).filter((p) => !CORPUS.includes(p)).map((p) => `"${p}" (from \`${q}\`)`))
    expect(missing, 'quoted message parts not found in src/').to.deep.equal([])
  })

  it('covers the operations issue 6 names', () => {
    for (const heading of [
      '## Adding a node safely', '## Replacing a failed voter', '## Joint changes and `leave-joint`', '## Demotion',
      '## Backups and restore', '## What the errors mean',
    ]) {
      expect(GUIDE, heading).to.include(heading)
    }
  })
})
