import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { coalesce } from './coalesce'

describe('coalesce', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('runs once per key per burst', () => {
    const run = vi.fn()
    const c = coalesce(run, 500)
    c.request('a')
    c.request('a')
    c.request('b')
    vi.advanceTimersByTime(499)
    expect(run).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(run.mock.calls).toEqual([['a'], ['b']])
    c.request('a')
    vi.advanceTimersByTime(500)
    expect(run).toHaveBeenCalledTimes(3)
  })

  it('drops what is pending when cancelled', () => {
    const run = vi.fn()
    const c = coalesce(run, 100)
    c.request('a')
    c.cancel()
    vi.advanceTimersByTime(200)
    expect(run).not.toHaveBeenCalled()
  })
})
