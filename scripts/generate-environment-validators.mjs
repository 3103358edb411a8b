#!/usr/bin/env node
// Generates src/backends/environment-validators.generated.ts from targets/*/target.schema.json with
// ajv's standalone code generation, so that loading a target's environment does not compile its
// schema at every start. Run after changing a target schema: npm run generate:validators.
// test/unit/environment.test.ts fails when the generated file is out of date.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { generateEnvironmentValidators } from '../dist/src/backends/environment-codegen.js'

const out = fileURLToPath(new URL('../src/backends/environment-validators.generated.ts', import.meta.url))
writeFileSync(out, generateEnvironmentValidators())
console.log(`wrote ${out}`)
