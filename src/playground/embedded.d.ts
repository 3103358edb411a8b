// Virtual modules written by scripts/build-playground.mjs at build time.
declare module 'rulesmith-embedded-files' {
  /** Package data by virtual path (/rulesmith/targets/…, /rulesmith/package.json). */
  export const EMBEDDED_FILES: Readonly<Record<string, string>>
}
declare module 'rulesmith-examples' {
  /** Example rules from rules/, each with its tests file ('' when it has none). */
  export const EXAMPLES: readonly { file: string; rule: string; tests: string }[]
}
