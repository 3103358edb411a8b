/**
 * grammars/chevrotain.ts for the browser: that module finds chevrotain's single-file bundle on disk
 * (a fast start for the CLI); here esbuild bundles the same file directly.
 */
// @ts-expect-error the single-file bundle ships without its own type declarations
import * as chevrotain from '../../../node_modules/chevrotain/lib/chevrotain.mjs'
import type * as Chevrotain from 'chevrotain'

// oxlint-disable-next-line typescript/no-unsafe-type-assertion -- the bundle ships no declarations; it is the package the types describe
const c = chevrotain as typeof Chevrotain
export const { createToken, Lexer, EmbeddedActionsParser, CstParser, EOF, tokenMatcher, tokenLabel } = c
export type { IToken, TokenType, ILexingError, IRecognitionException, CstNode, IParserConfig } from 'chevrotain'
