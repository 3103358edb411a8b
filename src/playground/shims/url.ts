/**
 * The browser's `node:url`. The library finds its package root from its own module path
 * (src/paths.ts); in the bundle every module lives at one virtual path inside the embedded tree.
 */
export const PACKAGE_ROOT = '/rulesmith'
export const fileURLToPath = (_url: unknown): string => `${PACKAGE_ROOT}/src/module.js`
export default { fileURLToPath }
