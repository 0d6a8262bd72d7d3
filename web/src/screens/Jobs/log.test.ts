import { describe, expect, it } from 'vitest'
import { addLine, stripAnsi, type LogEntry } from './log'

describe('addLine', () => {
  it('keeps lines in order, each once, whether stored or live', () => {
    const log: LogEntry[] = []
    for (const seq of [1, 2, 3, 2, 5, 4, 5]) addLine(log, { seq, line: `line ${seq}` })
    expect(log.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5])
  })

  it('appends lines the store could not number', () => {
    const log: LogEntry[] = [{ seq: 1, line: 'a' }]
    addLine(log, { seq: 0, line: 'b' })
    addLine(log, { seq: 0, line: 'b' })
    expect(log.map((l) => l.line)).toEqual(['a', 'b', 'b'])
  })
})

it('strips terminal colours', () => {
  expect(stripAnsi('\u001b[32mok\u001b[0m done')).toBe('ok done')
})
