import { mount } from '@vue/test-utils'
import { expect, it } from 'vitest'
import PreviewPanel from './PreviewPanel.vue'

const compose = '# generated\nservices:\n  web:\n    image: busybox\n    deploy:\n      mode: sometimes\n'

it('marks the problems of a file that rendered but does not validate at their lines', () => {
  const problem = { field: 'services.web.deploy.mode', file: 'docker-compose-s.yml', line: 6, message: 'must be replicated or global' }
  const wrapper = mount(PreviewPanel, {
    props: {
      preview: { valid: false, compose, warnings: [], problems: [problem] },
      lastCompose: 'services: {}\n',
      otherProblems: [problem],
      error: '',
      pending: false,
    },
    global: { stubs: { CodeView: { name: 'CodeView', props: ['code', 'problems', 'label'], template: '<pre />' } } },
  })
  const view = wrapper.findComponent({ name: 'CodeView' })
  // The invalid file itself is shown, not the last valid one.
  expect(view.props('code')).toBe(compose)
  expect(view.props('problems')).toEqual([
    { line: 6, message: 'services.web.deploy.mode: must be replicated or global', severity: 'error' },
  ])
  expect(wrapper.text()).toContain('its problems marked at their lines')
})

it('falls back to the last valid render when the options did not make a file', () => {
  const problem = { field: 'options.replicas', file: null, line: null, message: 'must be at most 20' }
  const wrapper = mount(PreviewPanel, {
    props: {
      preview: { valid: false, compose: null, warnings: [], problems: [problem] },
      lastCompose: 'services: {}\n',
      otherProblems: [],
      error: '',
      pending: false,
    },
    global: { stubs: { CodeView: { name: 'CodeView', props: ['code', 'problems', 'label'], template: '<pre />' } } },
  })
  const view = wrapper.findComponent({ name: 'CodeView' })
  expect(view.props('code')).toBe('services: {}\n')
  expect(view.props('problems')).toEqual([])
  expect(wrapper.text()).toContain('the last valid render')
})
