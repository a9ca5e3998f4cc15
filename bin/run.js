#!/usr/bin/env node
// The built CLI: runs the compiled commands from dist/.
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
