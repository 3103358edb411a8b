#!/usr/bin/env node
// Generates src/rule/schema-validate.generated.ts from the rule schema (src/rule/schema.ts) with
// ajv's standalone code generation, so that `validate` runs ajv's checks without compiling the
// schema at every start (about 80 ms). Run after changing the schema:
//   npx tsc -p tsconfig.json && node scripts/generate-schema-validator.mjs
// test/unit/schema.test.ts fails when the generated file is out of date.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { generateValidatorSource } from '../dist/src/rule/schema-codegen.js'

const out = fileURLToPath(new URL('../src/rule/schema-validate.generated.ts', import.meta.url))
writeFileSync(out, generateValidatorSource())
console.log(`wrote ${out}`)
