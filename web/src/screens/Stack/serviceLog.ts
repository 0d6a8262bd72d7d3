// A service's log as it streams in: the newest lines, numbered in order of
// arrival, stderr marked, at most MAX_LINES kept.
import { stripAnsi, type LogEntry } from '@/screens/Jobs/log'

export const MAX_LINES = 5000

export interface ServiceLogLine {
  line: string
  stream: string
}

/** Appends `line` to `log` as entry `seq`, dropping the oldest past `max`. */
export function appendServiceLine(log: LogEntry[], seq: number, line: ServiceLogLine, max = MAX_LINES): void {
  const text = stripAnsi(line.line)
  log.push({ seq, line: line.stream === 'STDERR' ? `[stderr] ${text}` : text })
  if (log.length > max) log.splice(0, log.length - max)
}
