/**
 * A JSON Schema for Sigma detection rules, following the structure of the Sigma specification
 * v2.1 (its own schema: sigma-detection-rule-schema.json). Written as draft-07 for ajv's default
 * build; `format: uuid` is a pattern here so no format plugin is needed. Detection contents are
 * checked by the AST builder, which gives sharper messages than a schema can.
 */
export const DATE_PATTERN = '^\\d{4}-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])$'
export const TAG_PATTERN = '^[a-z0-9_-]+\\.[a-z0-9._-]+$'

const stringList = { type: 'array', items: { type: 'string' } }

export const ruleSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['title', 'logsource', 'detection'],
  properties: {
    title: { type: 'string', minLength: 1, maxLength: 256 },
    id: { type: 'string' },
    name: { type: 'string', maxLength: 256 },
    taxonomy: { type: 'string', maxLength: 256 },
    related: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'type'],
        properties: {
          id: { type: 'string' },
          type: { enum: ['derived', 'obsolete', 'merged', 'renamed', 'similar'] },
        },
      },
    },
    status: { enum: ['stable', 'test', 'experimental', 'deprecated', 'unsupported'] },
    description: { type: 'string', maxLength: 65535 },
    license: { type: 'string' },
    author: { type: 'string' },
    references: { ...stringList, uniqueItems: true },
    date: { type: 'string', pattern: DATE_PATTERN },
    modified: { type: 'string', pattern: DATE_PATTERN },
    logsource: {
      type: 'object',
      minProperties: 1,
      properties: {
        category: { type: 'string' },
        product: { type: 'string' },
        service: { type: 'string' },
        definition: { type: 'string' },
      },
    },
    detection: {
      type: 'object',
      required: ['condition'],
      properties: { condition: { type: ['string', 'array'] } },
    },
    fields: { ...stringList, uniqueItems: true },
    falsepositives: { type: ['array', 'string'], items: { type: 'string' } },
    level: { enum: ['informational', 'low', 'medium', 'high', 'critical'] },
    tags: { type: 'array', uniqueItems: true, items: { type: 'string', pattern: TAG_PATTERN } },
    scope: stringList,
  },
} as const
