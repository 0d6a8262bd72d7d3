// A line diff of two texts as a unified diff (the format DiffView shows
// and the server's stackUpgradeDiff answers in). Compose files are short,
// so the plain longest-common-subsequence table is fast enough.

type Op = { kind: ' ' | '-' | '+'; text: string }

function lines(text: string): string[] {
  const all = text.split('\n')
  if (all.at(-1) === '') all.pop()
  return all
}

function operations(a: string[], b: string[]): Op[] {
  const n = a.length
  const m = b.length
  // lcs[i][j]: the common subsequence length of a[i..] and b[j..].
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1))
  for (let i = n - 1; i >= 0; i--) {
    const row = lcs[i] as Uint32Array
    const next = lcs[i + 1] as Uint32Array
    for (let j = m - 1; j >= 0; j--) {
      row[j] = a[i] === b[j] ? (next[j + 1] as number) + 1 : Math.max(next[j] as number, row[j + 1] as number)
    }
  }
  const ops: Op[] = []
  let i = 0
  let j = 0
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: ' ', text: a[i] as string })
      i++
      j++
    } else if ((lcs[i + 1] as Uint32Array)[j]! >= (lcs[i] as Uint32Array)[j + 1]!) {
      ops.push({ kind: '-', text: a[i++] as string })
    } else {
      ops.push({ kind: '+', text: b[j++] as string })
    }
  }
  while (i < n) ops.push({ kind: '-', text: a[i++] as string })
  while (j < m) ops.push({ kind: '+', text: b[j++] as string })
  return ops
}

/** The unified diff from `before` to `after`; '' when they are the same. */
export function unifiedDiff(before: string, after: string, name = 'docker-compose.yml', context = 3): string {
  const ops = operations(lines(before), lines(after))
  const changed = ops.map((op, index) => (op.kind === ' ' ? -1 : index)).filter((index) => index >= 0)
  if (changed.length === 0) return ''

  // Group changes whose contexts touch into hunks.
  const hunks: [number, number][] = []
  for (const index of changed) {
    const start = Math.max(0, index - context)
    const end = Math.min(ops.length, index + context + 1)
    const last = hunks.at(-1)
    if (last && start <= last[1]) last[1] = Math.max(last[1], end)
    else hunks.push([start, end])
  }

  const out = [`--- a/${name}`, `+++ b/${name}`]
  for (const [start, end] of hunks) {
    let oldLine = 1
    let newLine = 1
    for (const op of ops.slice(0, start)) {
      if (op.kind !== '+') oldLine++
      if (op.kind !== '-') newLine++
    }
    const body = ops.slice(start, end)
    const oldCount = body.filter((op) => op.kind !== '+').length
    const newCount = body.filter((op) => op.kind !== '-').length
    out.push(`@@ -${oldLine},${oldCount} +${newLine},${newCount} @@`)
    for (const op of body) out.push(`${op.kind}${op.text}`)
  }
  return out.join('\n')
}
