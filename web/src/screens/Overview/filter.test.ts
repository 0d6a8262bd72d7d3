import { describe, expect, it } from 'vitest'
import type { StackSummaryFragment } from '@/graphql/generated/graphql'
import { matches, needsAttention } from './filter'

function stack(over: Partial<StackSummaryFragment>): StackSummaryFragment {
  return {
    target: 'default',
    name: 'shop',
    enabled: true,
    syncStatus: 'SYNCED',
    syncReason: '',
    health: 'HEALTHY',
    runningTasks: 1,
    desiredTasks: 1,
    deployedCommit: null,
    desiredCommit: null,
    definition: { name: 'webapp', version: '1.0.0' },
    lastDeploy: null,
    ...over,
  }
}

describe('overview filter', () => {
  it('matches the name, the target or the definition', () => {
    expect(matches(stack({}), 'SHO', 'all')).toBe(true)
    expect(matches(stack({}), 'default', 'all')).toBe(true)
    expect(matches(stack({}), 'webapp', 'all')).toBe(true)
    expect(matches(stack({}), 'redis', 'all')).toBe(false)
  })

  it('finds the stacks that need attention', () => {
    expect(needsAttention(stack({}))).toBe(false)
    expect(needsAttention(stack({ syncStatus: 'OUT_OF_SYNC' }))).toBe(true)
    expect(needsAttention(stack({ health: 'DEGRADED' }))).toBe(true)
    // A disabled stack is expected not to run.
    expect(needsAttention(stack({ enabled: false, health: 'MISSING' }))).toBe(false)
  })

  it('filters by status', () => {
    expect(matches(stack({ lastDeploy: { id: 1, status: 'failed', finishedAt: null, error: 'x' } }), '', 'failed')).toBe(true)
    expect(matches(stack({ health: 'DEGRADED' }), '', 'degraded')).toBe(true)
    expect(matches(stack({}), '', 'out-of-sync')).toBe(false)
    expect(matches(stack({ enabled: false }), '', 'disabled')).toBe(true)
  })
})
