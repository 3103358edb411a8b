/**
 * rulesmith as a library:
 *
 *   import { loadPaths, compile, validate, evaluate } from 'rulesmith'
 *   const { rules } = loadPaths(['rules/'])
 *   const { query } = await compile(rules[0], 'kql')
 */
export type { Node, Pattern, Segment, Pos } from './ast/nodes.js'
export type { Diagnostic, Severity } from './diagnostics.js'
export type { Rule, LogSource, JsonEvent } from './rule/rule.js'
export type { Backend, Compiled, TargetId, TargetOptions } from './backends/types.js'
export type { Verifier, Verified } from './verify/types.js'
export type { Config, Policy } from './config.js'
export { TARGET_IDS } from './backends/types.js'
export { loadRuleText, loadPaths, collectFiles } from './rule/load.js'
export { evaluate, evaluateRule } from './evaluate/evaluate.js'
export { validate, compile, applyPolicy, targetOptions } from './api.js'
export { loadBackend } from './backends/index.js'
export { loadVerifier } from './verify/index.js'
export { checkEquivalence, checkQuery } from './proof/equivalence.js'
export { ORIGIN_KEY, originOf } from './origin.js'
export { formatDiagnostic, sortDiagnostics } from './diagnostics.js'
export { renderFormat, formatsOf, ruleVars } from './formats/render.js'
export { loadConfig, DEFAULT_CONFIG } from './config.js'
export { buildBundle, DEFAULT_BUNDLE_NAME } from './bundle/build.js'
export type { BundleOptions, BundleResult, Manifest } from './bundle/build.js'
export { writeAtomically } from './bundle/write.js'
// Sample events: a rule's tests file and generated adversarial events (the browser playground).
export { readSampleTests, refusalKey } from './proof/sample-tests.js'
export type { SampleEvent, SampleTests } from './proof/sample-tests.js'
export { adversarialEvents } from './proof/adversarial.js'
export { kqlGate } from './api.js'
