// How each status voc reports is shown: a word, an icon and a tone. The
// word and the icon carry the meaning; the tone (colour) only repeats it.

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'neutral'

export interface StatusLook {
  label: string
  icon: string
  tone: Tone
}

export type StatusKind = 'sync' | 'health' | 'job' | 'task' | 'token'

const LOOKS: Record<StatusKind, Record<string, StatusLook>> = {
  sync: {
    SYNCED: { label: 'Synced', icon: '✓', tone: 'ok' },
    OUT_OF_SYNC: { label: 'Out of sync', icon: '↻', tone: 'warn' },
    FAILED: { label: 'Deploy failed', icon: '✕', tone: 'bad' },
    UNKNOWN: { label: 'Unknown', icon: '?', tone: 'neutral' },
  },
  health: {
    HEALTHY: { label: 'Healthy', icon: '✓', tone: 'ok' },
    PROGRESSING: { label: 'Progressing', icon: '◔', tone: 'info' },
    DEGRADED: { label: 'Degraded', icon: '!', tone: 'bad' },
    MISSING: { label: 'Not running', icon: '○', tone: 'neutral' },
  },
  job: {
    queued: { label: 'Queued', icon: '…', tone: 'neutral' },
    running: { label: 'Running', icon: '▶', tone: 'info' },
    succeeded: { label: 'Succeeded', icon: '✓', tone: 'ok' },
    failed: { label: 'Failed', icon: '✕', tone: 'bad' },
    skipped: { label: 'Skipped', icon: '–', tone: 'neutral' },
    cancelled: { label: 'Cancelled', icon: '–', tone: 'neutral' },
  },
  // Docker's task states.
  task: {
    new: { label: 'New', icon: '…', tone: 'neutral' },
    pending: { label: 'Pending', icon: '…', tone: 'info' },
    assigned: { label: 'Assigned', icon: '…', tone: 'info' },
    accepted: { label: 'Accepted', icon: '…', tone: 'info' },
    ready: { label: 'Ready', icon: '…', tone: 'info' },
    preparing: { label: 'Preparing', icon: '◔', tone: 'info' },
    starting: { label: 'Starting', icon: '◔', tone: 'info' },
    running: { label: 'Running', icon: '✓', tone: 'ok' },
    complete: { label: 'Complete', icon: '✓', tone: 'neutral' },
    shutdown: { label: 'Shut down', icon: '■', tone: 'neutral' },
    failed: { label: 'Failed', icon: '✕', tone: 'bad' },
    rejected: { label: 'Rejected', icon: '✕', tone: 'bad' },
    remove: { label: 'Removing', icon: '■', tone: 'neutral' },
    orphaned: { label: 'Orphaned', icon: '?', tone: 'warn' },
  },
  token: {
    active: { label: 'Active', icon: '✓', tone: 'ok' },
    expired: { label: 'Expired', icon: '⌛', tone: 'neutral' },
    revoked: { label: 'Revoked', icon: '✕', tone: 'neutral' },
  },
}

/** The look of `value` of `kind`; an unknown value shows as itself. */
export function describeStatus(kind: StatusKind, value: string | null | undefined): StatusLook {
  if (value === null || value === undefined || value === '') {
    return { label: 'None', icon: '–', tone: 'neutral' }
  }
  const known = LOOKS[kind][value] ?? LOOKS[kind][value.toLowerCase()]
  if (known) return known
  const words = value.replace(/_/g, ' ').toLowerCase()
  return { label: words.charAt(0).toUpperCase() + words.slice(1), icon: '•', tone: 'neutral' }
}
