#!/usr/bin/env node
// Writes docs/diagnostics.md from the diagnostic code table (src/diagnostics/codes.ts). Run after
// changing the table: npm run docs:diagnostics. test/unit/diagnostic-codes.test.ts fails when the
// document is out of date.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { diagnosticsDoc } from '../dist/src/diagnostics/codes.js'

const out = fileURLToPath(new URL('../docs/diagnostics.md', import.meta.url))
writeFileSync(out, diagnosticsDoc())
console.log(`wrote ${out}`)
