// Times as people read them: "3 min ago", with the exact time on hover.
import { ref, type Ref } from 'vue'

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
]

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' })
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })

/** `iso` relative to `now` ("5 min ago", "in 2 days"). */
export function fromNow(iso: string, now: number = Date.now()): string {
  const then = Date.parse(iso)
  if (Number.isNaN(then)) return iso
  const seconds = Math.round((then - now) / 1000)
  if (Math.abs(seconds) < 10) return 'just now'
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second') {
      return relative.format(Math.round(seconds / size), unit)
    }
  }
  return iso
}

/** `iso` as a full local date and time. */
export function formatTime(iso: string): string {
  const then = Date.parse(iso)
  return Number.isNaN(then) ? iso : absolute.format(then)
}

/** A duration in seconds as "1 min 5 s". */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))} s`
  const minutes = Math.floor(seconds / 60)
  const rest = Math.round(seconds % 60)
  if (minutes < 60) return rest ? `${minutes} min ${rest} s` : `${minutes} min`
  const hours = Math.floor(minutes / 60)
  return `${hours} h ${minutes % 60} min`
}

let clock: Ref<number> | null = null

/** One clock for every time on the page, ticking each 30 s. */
export function useClock(): Ref<number> {
  if (clock === null) {
    const tick = ref(Date.now())
    setInterval(() => (tick.value = Date.now()), 30_000)
    clock = tick
  }
  return clock
}
