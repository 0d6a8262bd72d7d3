// Which stacks the overview shows: a name filter and a status filter,
// kept in the address (?q=…&show=…) so a filtered view can be shared.
import type { StackSummaryFragment } from '@/graphql/generated/graphql'

export type ShowFilter = 'all' | 'attention' | 'out-of-sync' | 'failed' | 'degraded' | 'disabled'

export const SHOW_FILTERS: { value: ShowFilter; label: string }[] = [
  { value: 'all', label: 'All stacks' },
  { value: 'attention', label: 'Needing attention' },
  { value: 'out-of-sync', label: 'Out of sync' },
  { value: 'failed', label: 'Deploy failed' },
  { value: 'degraded', label: 'Degraded' },
  { value: 'disabled', label: 'Disabled' },
]

export function isShowFilter(value: unknown): value is ShowFilter {
  return SHOW_FILTERS.some((f) => f.value === value)
}

/** A stack that is not synced and healthy (a disabled one is expected to be missing). */
export function needsAttention(s: Pick<StackSummaryFragment, 'syncStatus' | 'health' | 'enabled'>): boolean {
  if (s.syncStatus !== 'SYNCED') return true
  return s.enabled && s.health !== 'HEALTHY'
}

export function matches(s: StackSummaryFragment, query: string, show: ShowFilter): boolean {
  const q = query.trim().toLowerCase()
  if (q && !s.name.toLowerCase().includes(q) && !s.target.toLowerCase().includes(q) && !(s.definition?.name ?? '').includes(q)) {
    return false
  }
  switch (show) {
    case 'all':
      return true
    case 'attention':
      return needsAttention(s)
    case 'out-of-sync':
      return s.syncStatus === 'OUT_OF_SYNC'
    case 'failed':
      return s.syncStatus === 'FAILED' || s.lastDeploy?.status === 'failed'
    case 'degraded':
      return s.health === 'DEGRADED'
    case 'disabled':
      return !s.enabled
  }
}
