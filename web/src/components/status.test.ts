import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import StatusBadge from './StatusBadge.vue'
import { describeStatus, type StatusKind } from './status'

describe('describeStatus', () => {
  it('gives every known status a word and an icon, not only a colour', () => {
    const known: [StatusKind, string][] = [
      ['sync', 'SYNCED'],
      ['sync', 'OUT_OF_SYNC'],
      ['sync', 'FAILED'],
      ['sync', 'UNKNOWN'],
      ['health', 'HEALTHY'],
      ['health', 'PROGRESSING'],
      ['health', 'DEGRADED'],
      ['health', 'MISSING'],
      ['job', 'running'],
      ['job', 'failed'],
      ['task', 'running'],
      ['task', 'failed'],
      ['task', 'shutdown'],
    ]
    for (const [kind, value] of known) {
      const look = describeStatus(kind, value)
      expect(look.label.length, `${kind} ${value}`).toBeGreaterThan(2)
      expect(look.icon, `${kind} ${value}`).not.toBe('')
    }
  })

  it('tells a failure from success by icon as well as tone', () => {
    const ok = describeStatus('sync', 'SYNCED')
    const bad = describeStatus('sync', 'FAILED')
    expect(ok.tone).toBe('ok')
    expect(bad.tone).toBe('bad')
    expect(ok.icon).not.toBe(bad.icon)
    expect(ok.label).not.toBe(bad.label)
  })

  it('shows an unknown value as readable words', () => {
    expect(describeStatus('health', 'SOMETHING_NEW')).toEqual({ label: 'Something new', icon: '•', tone: 'neutral' })
    expect(describeStatus('task', null).label).toBe('None')
  })

  it('reads job and task states in any case', () => {
    expect(describeStatus('job', 'SUCCEEDED').label).toBe('Succeeded')
  })
})

describe('StatusBadge', () => {
  it('renders the word, a hidden icon, the tone and the detail for screen readers', () => {
    const wrapper = mount(StatusBadge, { props: { kind: 'health', value: 'DEGRADED', detail: '1 of 3 tasks running' } })
    expect(wrapper.text()).toContain('Degraded')
    expect(wrapper.classes()).toContain('tone-bad')
    expect(wrapper.get('.icon').attributes('aria-hidden')).toBe('true')
    expect(wrapper.attributes('title')).toBe('1 of 3 tasks running')
    expect(wrapper.get('.visually-hidden').text()).toContain('1 of 3 tasks running')
    expect(wrapper.attributes('data-status')).toBe('DEGRADED')
  })
})
