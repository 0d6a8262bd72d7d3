import { describe, expect, it } from 'vitest'
import { unifiedDiff } from './diff'

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n')).toBe('')
  })

  it('shows a changed line with its context', () => {
    const before = ['services:', '  web:', '    image: a', '    deploy:', '      replicas: 1', ''].join('\n')
    const after = before.replace('replicas: 1', 'replicas: 3')
    expect(unifiedDiff(before, after, 'x.yml', 1)).toBe(
      ['--- a/x.yml', '+++ b/x.yml', '@@ -4,2 +4,2 @@', '     deploy:', '-      replicas: 1', '+      replicas: 3'].join('\n'),
    )
  })

  it('splits far apart changes into hunks with their line numbers', () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n')
    const after = before.replace('line 2\n', 'line two\n').replace('line 18', 'line eighteen')
    const diff = unifiedDiff(before, after, 'f', 1)
    expect(diff.split('\n').filter((l) => l.startsWith('@@'))).toEqual(['@@ -1,3 +1,3 @@', '@@ -17,3 +17,3 @@'])
  })

  it('shows added and removed lines', () => {
    expect(unifiedDiff('a\n', 'a\nb\n', 'f')).toBe('--- a/f\n+++ b/f\n@@ -1,1 +1,2 @@\n a\n+b')
    expect(unifiedDiff('a\nb\n', 'b\n', 'f')).toBe('--- a/f\n+++ b/f\n@@ -1,2 +1,1 @@\n-a\n b')
  })
})
