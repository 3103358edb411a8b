/**
 * Every diagnostic code rulesmith emits, once: its default severity and what it means. A code is
 * `area/kebab-name`; the same refusal has the same code on every target (the message names the
 * target and the construct). `Diagnostic.code` is typed by this table, so a code missing here does
 * not compile; docs/diagnostics.md is generated from it (`npm run docs:diagnostics`) and a test
 * checks that the two agree.
 */

export interface CodeInfo {
  /** What the code is when nothing overrides it (the refusal policy turns `target/` errors into warnings). */
  readonly severity: 'error' | 'warning'
  /** One line: what happened, in the words of a rule author. */
  readonly meaning: string
}

export const DIAGNOSTIC_CODES = {
  // --- reading files -----------------------------------------------------------------------------
  'io/unreadable': {
    severity: 'error',
    meaning: 'a file or folder given on the command line or in the config cannot be read',
  },
  'input/no-rules': {
    severity: 'error',
    meaning: 'the paths given hold no rules, so nothing was checked (a wrong path?); --allow-empty accepts it',
  },
  'io/not-a-file': {
    severity: 'error',
    meaning: 'a FIFO, device or socket where a file was expected; refused without being opened',
  },
  'io/symlink-loop': { severity: 'error', meaning: 'a path runs into a loop of symbolic links' },
  'io/link-outside': {
    severity: 'warning',
    meaning: 'a symbolic link in a folder leads outside the folder given; not followed without --follow-links',
  },
  'io/invalid-utf8': { severity: 'error', meaning: 'a file is not valid UTF-8 (the first bad byte is named)' },
  'io/utf16': { severity: 'error', meaning: 'a file is UTF-16 or UTF-32 text; rulesmith reads UTF-8' },
  'limit/file-bytes': { severity: 'error', meaning: 'a file is larger than limits.file-bytes; refused unread' },
  'limit/documents': { severity: 'error', meaning: 'a file holds more YAML documents than limits.documents' },
  'limit/values': {
    severity: 'error',
    meaning: 'a field lists more values than limits.values-per-field',
  },
  'limit/alias-expansion': {
    severity: 'error',
    meaning: 'YAML aliases expand a document past limits.alias-expansion nodes',
  },
  'limit/condition-expansion': {
    severity: 'error',
    meaning:
      'a condition expands past limits.condition-expansion values (a search counted each time the condition names it)',
  },
  'limit/event-line': { severity: 'error', meaning: 'a line of an events file is longer than limits.event-line-bytes' },
  'limit/regex-budget': {
    severity: 'error',
    meaning: 'a regular expression no linear-time engine can run took longer than limits.regex-budget-ms on a value',
  },
  'yaml/syntax': { severity: 'error', meaning: 'the file is not valid YAML' },
  'yaml/empty': { severity: 'error', meaning: 'the file holds no YAML document' },
  'yaml/not-a-map': { severity: 'error', meaning: 'a document of the file is not a YAML map' },

  'events/invalid-json': { severity: 'error', meaning: 'a line of an events file (JSON Lines) is not valid JSON' },
  'events/not-an-object': { severity: 'error', meaning: 'a line of an events file is JSON but not an object' },
  'events/no-time': {
    severity: 'error',
    meaning: "an event a correlation's rule selects has no readable time in its log source's time field",
  },
  'events/invalid-utf8': { severity: 'error', meaning: 'a line of an events file is not valid UTF-8' },
  'events/utf16': { severity: 'error', meaning: 'an events file is UTF-16 or UTF-32 text (or holds NUL bytes)' },

  // --- the rule ------------------------------------------------------------------------------
  'rule/schema': {
    severity: 'error',
    meaning: 'the rule does not follow the Sigma rule schema (a missing or mistyped key)',
  },
  'rule/invalid-tag': { severity: 'error', meaning: "a tag is not lower-case 'namespace.name'" },
  'rule/invalid-attack-tag': {
    severity: 'error',
    meaning: 'an attack.* tag names no ATT&CK tactic, technique, group, software or campaign',
  },
  'rule/invalid-date': { severity: 'error', meaning: 'date or modified is not a YYYY-MM-DD date' },
  'rule/invalid-uuid': { severity: 'error', meaning: 'the rule id is not a UUID' },
  'rule/modified-before-date': { severity: 'warning', meaning: 'modified is earlier than date' },
  'rule/duplicate-id': { severity: 'error', meaning: 'two rules share one id' },
  'rule/duplicate-title': { severity: 'warning', meaning: 'two rules share one title' },
  'rule/unsafe-text': {
    severity: 'warning',
    meaning:
      'metadata holds a line break or control character (or a title ends in a backslash): one-line outputs fold it',
  },
  'rule/legacy-collection': {
    severity: 'error',
    meaning: "a Sigma v1 rule collection ('action: global'); write each rule as its own document",
  },
  'rule/duplicate-name': { severity: 'error', meaning: 'two documents share one name; a name must identify one rule' },

  // --- correlation documents (docs/semantics.md, "Correlations") --------------------------------
  'correlation/invalid': { severity: 'error', meaning: 'correlation is not a map' },
  'correlation/unknown-key': {
    severity: 'error',
    meaning: 'correlation holds a key the specification does not define',
  },
  'correlation/type': { severity: 'error', meaning: 'correlation.type is not one of the seven correlation types' },
  'correlation/rules': {
    severity: 'error',
    meaning: 'correlation.rules is missing, not a list of ids or names, too short for the type, or repeats a rule',
  },
  'correlation/group-by': { severity: 'error', meaning: 'correlation.group-by is not a list of distinct field names' },
  'correlation/timespan': {
    severity: 'error',
    meaning: 'correlation.timespan is missing or not a number from 1 and s, m, h or d (at most a year)',
  },
  'correlation/condition': {
    severity: 'error',
    meaning: 'correlation.condition is missing, not a map, or holds an unknown or non-numeric criterion',
  },
  'correlation/condition-field': {
    severity: 'error',
    meaning: 'condition.field is missing for a value_* type, present for another, or absent from a referenced rule',
  },
  'correlation/unsatisfiable': { severity: 'error', meaning: 'no window can ever meet the correlation condition' },
  'correlation/aliases': {
    severity: 'error',
    meaning: 'correlation.aliases is not a map of alias to { rule name: field }',
  },
  'correlation/generate': { severity: 'error', meaning: 'correlation.generate is not true or false' },
  'correlation/unknown-rule': {
    severity: 'error',
    meaning: "a referenced id or name is no rule's or correlation's among the files given",
  },
  'correlation/cycle': { severity: 'error', meaning: 'correlations refer to each other in a loop' },
  'correlation/group-by-field': {
    severity: 'error',
    meaning: 'a group-by field is absent from a referenced rule (neither tested nor in fields:) or correlation',
  },
  'correlation/alias-rule': {
    severity: 'error',
    meaning: 'an alias names a rule the correlation does not refer to',
  },
  'correlation/alias-incomplete': {
    severity: 'error',
    meaning: 'a group-by alias says nothing of one of the referenced rules',
  },
  'correlation/inner-meta': {
    severity: 'warning',
    meaning: 'level, status or dates on a correlation that another correlation refers to have no effect',
  },

  // --- global filter documents ------------------------------------------------------------------
  'filter/invalid': { severity: 'error', meaning: 'filter is not a map with rules, selection and condition' },
  'filter/logsource': { severity: 'error', meaning: 'a filter has no logsource, or a malformed one' },
  'filter/rules': { severity: 'error', meaning: 'filter.rules is missing or not a list of rule ids or names' },
  'filter/condition': { severity: 'error', meaning: 'filter.condition is missing' },
  'filter/selection': { severity: 'error', meaning: 'a filter has no selection to test' },
  'filter/meta': { severity: 'warning', meaning: 'a filter has a level or status, which the specification excludes' },
  'filter/unknown-rule': {
    severity: 'error',
    meaning: "filter.rules names no rule's id or name among the files given",
  },
  'filter/logsource-mismatch': {
    severity: 'error',
    meaning: "the filter's logsource is not that of a rule it names",
  },
  'rule/misplaced-condition': { severity: 'error', meaning: 'condition is not directly under detection' },
  'rule/condition-type': { severity: 'error', meaning: 'detection.condition is not a string' },
  'rule/undefined-identifier': {
    severity: 'error',
    meaning: 'the condition names a search identifier that detection does not define',
  },
  'rule/unused-identifier': { severity: 'warning', meaning: 'a search identifier is never used by the condition' },
  'rule/empty-search': { severity: 'error', meaning: 'a search identifier is an empty list or map' },
  'rule/empty-value': { severity: 'error', meaning: 'a field has an empty list of values' },
  'rule/value-type': {
    severity: 'error',
    meaning: 'a value has a type Sigma does not allow there (a nested list, a map)',
  },
  'rule/null-in-list': { severity: 'error', meaning: 'null is one value of a list; it must be a selection of its own' },
  'rule/unknown-modifier': { severity: 'error', meaning: 'a field modifier that Sigma does not define' },
  'rule/unsupported-modifier': {
    severity: 'error',
    meaning: 'a Sigma modifier rulesmith does not implement (time part extraction)',
  },
  'rule/modifier-conflict': { severity: 'error', meaning: 'modifiers that cannot be combined, or one given twice' },
  'rule/all-single-value': { severity: 'error', meaning: "'|all' on a single value" },
  'rule/exists-not-boolean': { severity: 'error', meaning: "'|exists' takes true or false" },
  'rule/compare-not-number': {
    severity: 'error',
    meaning: "'|lt', '|lte', '|gt' or '|gte' on a value that is not a number",
  },
  'rule/invalid-cidr': { severity: 'error', meaning: "'|cidr' on a value that is not a CIDR network" },
  'rule/invalid-regex': { severity: 'error', meaning: "'|re' on a value that is not a regular expression" },
  'rule/unsupported-regex': {
    severity: 'error',
    meaning: 'a regular expression with inline flags other than at its start',
  },
  'rule/unresolved-placeholder': {
    severity: 'error',
    meaning: "'|expand' names a placeholder the config gives no values for",
  },
  'rule/yaml-version-ambiguity': {
    severity: 'warning',
    meaning: 'YAML 1.1 readers (pySigma) read a plain value differently from YAML 1.2; quote it',
  },
  'rule/regex-backtracking': {
    severity: 'warning',
    meaning:
      'a regular expression can take exponential time in the backtracking engines of Splunk (PCRE), Elasticsearch scripts (Java) and osquery (std::regex)',
  },
  'rule/value-too-complex': { severity: 'error', meaning: 'a value expands into too many variants (|windash)' },

  // --- the condition -------------------------------------------------------------------------
  'cond/syntax': { severity: 'error', meaning: 'the condition does not parse' },
  'cond/aggregation': {
    severity: 'error',
    meaning: 'a Sigma v1 aggregation (`| count() …`) in the condition; use a correlation rule',
  },

  // --- project config, pipelines and templates ---------------------------------------------------
  'config/invalid': { severity: 'error', meaning: 'the project config (.rulesmith.yml) is malformed' },
  'config/pipeline': {
    severity: 'error',
    meaning:
      'a pipeline file (--pipeline, or pipelines: in the config) does not exist, cannot be read or does not fit the target environment schema',
  },
  'config/template': { severity: 'error', meaning: 'an output template does not parse or names an unknown variable' },

  // --- targets: one code per refusal, the same on every target ---------------------------------
  'target/unsupported-logsource': {
    severity: 'error',
    meaning: "the target has no table, index or search for the rule's log source",
  },
  'target/unknown-field': {
    severity: 'error',
    meaning: 'the target has no field or column for a Sigma field of this log source',
  },
  'target/unsupported-field': {
    severity: 'error',
    meaning: 'a field the log source fixes, or two fields sharing one column, cannot be tested',
  },
  'target/unsupported-field-name': {
    severity: 'error',
    meaning: 'the field name cannot be written in the query language, or means something else there',
  },
  'target/unsupported-field-type': {
    severity: 'error',
    meaning: "the field's type in the target cannot take this test (a text field, a dynamic column)",
  },
  'target/unsupported-value': {
    severity: 'error',
    meaning: 'a value holds characters the query language cannot carry',
  },
  'target/unsupported-empty-value': {
    severity: 'error',
    meaning: 'the target cannot tell an empty value from a missing one, and the test depends on it',
  },
  'target/unsupported-match': {
    severity: 'error',
    meaning: 'a value pattern on a number or address field that the target cannot match as text',
  },
  'target/unsupported-case-folding': {
    severity: 'error',
    meaning: 'a case-insensitive value whose case folding the target does not do as Sigma does',
  },
  'target/unsupported-regex': {
    severity: 'error',
    meaning: "a regular expression the target's regex dialect cannot express exactly",
  },
  'target/unsupported-cidr': {
    severity: 'error',
    meaning: 'a CIDR test the target cannot express exactly (IPv6, a non-address field)',
  },
  'target/unsupported-compare': {
    severity: 'error',
    meaning: 'a numeric comparison the target cannot express exactly',
  },
  'target/unsupported-exists': {
    severity: 'error',
    meaning: "'|exists' on a field whose presence the target cannot see",
  },
  'target/unsupported-null': {
    severity: 'error',
    meaning: "'field: null' on a field whose absence the target cannot see",
  },
  'target/unsupported-fieldref': { severity: 'error', meaning: "'|fieldref' the target cannot express exactly" },
  'target/unsupported-keyword': {
    severity: 'error',
    meaning: 'a keyword search (a value matched against every field), which the target cannot express exactly',
  },
  'target/approximate-field': {
    severity: 'warning',
    meaning: 'the Sigma field is mapped to a column that does not hold quite the same value',
  },
  'target/kql-parser': { severity: 'error', meaning: "Microsoft's KQL parser reports an error in the emitted query" },

  'target/unsupported-correlation': {
    severity: 'error',
    meaning: 'a correlation type or condition the target cannot evaluate exactly',
  },
  'target/unsupported-correlation-chain': {
    severity: 'error',
    meaning: 'a correlation that refers to another correlation (not compiled)',
  },
  'target/unsupported-correlation-group-by': {
    severity: 'error',
    meaning: "a correlation's grouping the target cannot express (osquery: not per host)",
  },
  'target/unsupported-correlation-rule': {
    severity: 'error',
    meaning: 'a rule a correlation refers to is refused by the target, or compiles to a shape it cannot correlate',
  },
  'target/unsupported-correlation-window': {
    severity: 'error',
    meaning: "a correlation's sliding window or order the target cannot express exactly",
  },

  // --- the proof -------------------------------------------------------------------------------
  'verify/mismatch': { severity: 'error', meaning: 'the emitted query and the rule disagree on an event' },
  'verify/kql-parser': {
    severity: 'error',
    meaning: "Microsoft's KQL parser rejects the emitted query: a bug of the compile",
  },
  'verify/parse': { severity: 'error', meaning: 'the verifier cannot parse the emitted query' },
  'verify/eval': { severity: 'error', meaning: 'the verifier cannot evaluate the emitted query' },
  'verify/runtime': { severity: 'error', meaning: 'the emitted query fails when run' },
  'verify/table': { severity: 'error', meaning: "the query reads a table the target's schema does not have" },
  'verify/unsupported': { severity: 'error', meaning: 'the query uses a construct the verifier does not model' },
  'verify/unrepresentable-event': {
    severity: 'warning',
    meaning: "an event the target's schema cannot hold as written; not compared",
  },
  'verify/inexact-event': {
    severity: 'warning',
    meaning: 'an event holds a value the target cannot hold exactly; its verdict proves little',
  },

  // --- rules' tests files ----------------------------------------------------------------------
  'test/invalid': { severity: 'error', meaning: "a rule's tests file is malformed" },
  'test/no-samples': { severity: 'warning', meaning: 'a rule has no tests file with sample events' },
  'test/expected-match': { severity: 'error', meaning: 'the rule does not select an event listed under match' },
  'test/unexpected-match': { severity: 'error', meaning: 'the rule selects an event listed under nomatch' },
  'test/expected-refusal': {
    severity: 'error',
    meaning: 'the tests file expects a refusal, but the target compiles the rule',
  },
  'test/no-time': {
    severity: 'error',
    meaning: "an event of a stream that a correlation's rule selects has no readable time",
  },
  'test/expected-groups': {
    severity: 'error',
    meaning: 'a correlation fires for other groups on a stream than the tests file expects',
  },
  'test/unrepresentable-event': {
    severity: 'warning',
    meaning: "a sample event the target's schema cannot hold as written; not compared",
  },

  // --- output files ------------------------------------------------------------------------------
  'format/unsafe-text': {
    severity: 'error',
    meaning: 'a format cannot hold a value exactly (a search with a line break in savedsearches.conf)',
  },
  'format/duplicate-name': {
    severity: 'error',
    meaning: 'two rules get one name in a format (stanza, rule id, query name) and would replace each other',
  },
  'format/attack-mapped': {
    severity: 'warning',
    meaning:
      "an ATT&CK tag the format's consumer does not know was written as its nearest accepted parent (a tactic it was split from, a technique it replaced or belongs to)",
  },
  'format/attack-dropped': {
    severity: 'warning',
    meaning:
      "an ATT&CK technique neither the format's consumer nor ATT&CK's release knows, with no parent it knows, was left out",
  },
  'format/query-too-long': {
    severity: 'warning',
    meaning: "the query is longer than the format's consumer accepts (Sentinel: 10,000 characters)",
  },
  'output/collision': { severity: 'error', meaning: 'two rules would be written to one output file' },
  'io/no-space': { severity: 'error', meaning: 'the output cannot be written: the disk is full; nothing was written' },
  'io/read-only': {
    severity: 'error',
    meaning: 'the output cannot be written: the file system is read-only; nothing was written',
  },
  'io/permission-denied': {
    severity: 'error',
    meaning: 'the output cannot be written: permission denied; nothing was written',
  },
  'io/not-a-folder': {
    severity: 'error',
    meaning: 'the output cannot be written: a part of its path is a file; nothing was written',
  },
  'io/old-output-left': {
    severity: 'warning',
    meaning:
      'the output is written, but the previous output (renamed aside beside it) could not be removed: delete the folder named',
  },
  'io/write-failed': {
    severity: 'error',
    meaning: 'the output cannot be written (another error); nothing was written',
  },

  // --- release bundles -------------------------------------------------------------------------
  'bundle/no-rules': { severity: 'error', meaning: 'no rules under the given paths: an empty release is refused' },
  'bundle/missing-id': { severity: 'error', meaning: 'a rule has no id, and a bundle tracks rules by id' },
  'bundle/invalid-lock': { severity: 'error', meaning: "the bundle's lock file is malformed" },
  'bundle/target-unavailable': { severity: 'error', meaning: "a target's backend cannot be loaded" },
  'bundle/no-query': { severity: 'error', meaning: 'a backend returned neither a query nor a reason' },
  'bundle/format-failed': { severity: 'error', meaning: 'rendering a format failed' },
  'bundle/archive': { severity: 'error', meaning: 'the release archive cannot be written' },

  // --- bugs --------------------------------------------------------------------------------------
  'internal/crash': { severity: 'error', meaning: 'rulesmith crashed while compiling (please report)' },
} as const satisfies Readonly<Record<string, CodeInfo>>

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES

export const isDiagnosticCode = (s: string): s is DiagnosticCode => Object.hasOwn(DIAGNOSTIC_CODES, s)

/** docs/diagnostics.md, from the table: the one place a reader finds every code. */
export function diagnosticsDoc(): string {
  const lines = [
    '# Diagnostic codes',
    '',
    '<!-- Generated from src/diagnostics/codes.ts by `npm run docs:diagnostics`; a test keeps the two equal. -->',
    '',
    'Every diagnostic is printed as `file:line:col: severity: message [code]`. The same refusal has the',
    'same code on every target; the message names the target and the construct. `target/` errors follow',
    'the refusal policy (`unsupported: error | warning | ignore` in `.rulesmith.yml`).',
    '',
    '| code | default severity | meaning |',
    '| --- | --- | --- |',
  ]
  for (const [code, info] of Object.entries(DIAGNOSTIC_CODES) as [string, CodeInfo][])
    lines.push(`| \`${code}\` | ${info.severity} | ${info.meaning.replace(/\|/g, '\\|')} |`)
  return lines.join('\n') + '\n'
}
