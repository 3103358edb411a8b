/**
 * How the KQL gate spreads queries over its snapshot children (chooseChild in
 * src/verify/kql-gate-snapshot.ts): one child while few queries wait (a one-rule validate starts
 * one), a second once the first has a backlog, never more than the machine's limit, and a child
 * that failed never takes a query while another is alive.
 */
import { describe, expect, test } from 'vitest'
import { chooseChild } from '../../src/verify/kql-gate-snapshot.js'

const child = (waiting: number, alive = true) => ({ waiting, alive })

describe('chooseChild', () => {
  test('one child takes queries until its backlog reaches the spread mark', () => {
    expect(chooseChild([child(0)], 2, 8)).toBe(0)
    expect(chooseChild([child(7)], 2, 8)).toBe(0)
    expect(chooseChild([child(8)], 2, 8)).toBe('start')
  })

  test('no more children than the limit (one core: one child)', () => {
    expect(chooseChild([child(50)], 1, 8)).toBe(0)
    expect(chooseChild([child(50), child(40)], 2, 8)).toBe(1)
  })

  test('the live child with the fewest waiting queries', () => {
    expect(chooseChild([child(5), child(2)], 2, 8)).toBe(1)
    expect(chooseChild([child(2), child(5)], 2, 8)).toBe(0)
  })

  test('a failed child is passed over while another is alive, and is no reason to start one', () => {
    expect(chooseChild([child(0, false), child(3)], 2, 8)).toBe(1)
    expect(chooseChild([child(20), child(0, false)], 2, 8)).toBe(0)
    expect(chooseChild([child(0, false)], 2, 8)).toBe(0)
  })
})
