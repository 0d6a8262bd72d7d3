// A job's log as it arrives: lines from the store and then live ones,
// kept in order, each once.

export interface LogEntry {
  seq: number
  line: string
}

// Colour and cursor escapes (build output is full of them).
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g

export function stripAnsi(line: string): string {
  return line.replace(ANSI, '')
}

/**
 * Adds `entry` to `log` (sorted by seq) unless it is there already. A
 * line the store could not number (seq 0) is appended as it comes.
 */
export function addLine(log: LogEntry[], entry: LogEntry): void {
  const clean = { seq: entry.seq, line: stripAnsi(entry.line) }
  if (entry.seq <= 0) {
    log.push(clean)
    return
  }
  const last = log.at(-1)
  if (last === undefined || last.seq < entry.seq) {
    log.push(clean)
    return
  }
  if (log.some((l) => l.seq === entry.seq)) return
  const at = log.findIndex((l) => l.seq > entry.seq)
  log.splice(at === -1 ? log.length : at, 0, clean)
}
