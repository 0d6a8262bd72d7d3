import { expect, it } from 'vitest'
import type { LogEntry } from '@/screens/Jobs/log'
import { appendServiceLine } from './serviceLog'

it('numbers lines, marks stderr and keeps only the newest', () => {
  const log: LogEntry[] = []
  appendServiceLine(log, 1, { line: 'hello-1', stream: 'STDOUT' }, 2)
  appendServiceLine(log, 2, { line: '\u001b[31moops\u001b[0m', stream: 'STDERR' }, 2)
  appendServiceLine(log, 3, { line: 'hello-3', stream: 'STDOUT' }, 2)
  expect(log).toEqual([
    { seq: 2, line: '[stderr] oops' },
    { seq: 3, line: 'hello-3' },
  ])
})
