// Mocha's spec reporter plus one closing line "tests: N passed, M failed" (CI reads it). When
// RAFTCTL_TEST_SUMMARY names a file, the same line is also written there so .ci/run can print it
// last, after anything npm prints.
'use strict'
const fs = require('node:fs')
const Mocha = require('mocha')

class CountingSpec extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options)
    runner.once('end', () => {
      const line = `tests: ${runner.stats.passes} passed, ${runner.stats.failures} failed`
      console.log(line)
      if (process.env.RAFTCTL_TEST_SUMMARY) fs.writeFileSync(process.env.RAFTCTL_TEST_SUMMARY, line + '\n')
    })
  }
}

module.exports = CountingSpec
