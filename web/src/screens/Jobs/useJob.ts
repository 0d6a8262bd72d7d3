// One job, followed live: its record from the `job` query, then its
// status changes and log lines from `jobEvents`, which starts with what the
// store has (repeats are dropped by their seq).
import { quiet } from '@/graphql/quiet'
import { useQuery, useSubscription } from '@vue/apollo-composable'
import { computed, ref, watch, type Ref } from 'vue'
import type { JobStatus } from '@/graphql/generated/graphql'
import { addLine, type LogEntry } from './log'
import { JobEventsSubscription, JobQuery } from './operations'

export function useJob(id: Ref<string | null>) {
  const enabled = computed(() => id.value !== null && id.value !== '')
  const query = useQuery(JobQuery, () => ({ id: id.value ?? '' }), () => ({ enabled: enabled.value, fetchPolicy: 'network-only' }))
  const lines = ref<LogEntry[]>([])
  const liveStatus = ref<{ status: JobStatus; error: string | null } | null>(null)

  watch(id, () => {
    lines.value = []
    liveStatus.value = null
  })

  watch(
    () => query.result.value?.job?.log,
    (log) => {
      for (const l of log ?? []) addLine(lines.value, l)
    },
  )

  const events = useSubscription(JobEventsSubscription, () => ({ id: id.value }), () => ({ enabled: enabled.value }))
  events.onResult((result) => {
    const event = result.data?.jobEvents
    if (!event || event.jobId !== id.value) return
    if (event.line !== null && event.line !== undefined) addLine(lines.value, { seq: event.seq ?? 0, line: event.line })
    if (event.status) {
      const wasDone = liveStatus.value !== null && isFinished(liveStatus.value.status)
      liveStatus.value = { status: event.status, error: event.error ?? null }
      // Times and the final error come with the record.
      if (isFinished(event.status) && !wasDone) quiet(query.refetch())
    }
  })

  const job = computed(() => query.result.value?.job ?? null)
  const status = computed<JobStatus | null>(() => liveStatus.value?.status ?? job.value?.status ?? null)
  const error = computed(() => liveStatus.value?.error ?? job.value?.error ?? null)
  const finished = computed(() => status.value !== null && isFinished(status.value))

  return {
    job,
    lines,
    status,
    error,
    finished,
    loading: query.loading,
    loadError: query.error,
    liveError: events.error,
  }
}

export function isFinished(status: JobStatus): boolean {
  return status === 'SUCCEEDED' || status === 'FAILED' || status === 'SKIPPED'
}
