import { mount, RouterLinkStub } from '@vue/test-utils'
import { expect, it } from 'vitest'
import ServiceCard from './ServiceCard.vue'

const now = new Date().toISOString()
const long = new Date(Date.now() - 3600_000).toISOString()

function task(id: string, state: string, desiredState: string, updatedAt: string, error: string | null = null) {
  return { id, slot: 1, node: 'vm', state, desiredState, message: state, error, image: 'web:1', createdAt: updatedAt, updatedAt }
}

it('shows a task that just failed beside its replacement, and older history on demand', async () => {
  const wrapper = mount(ServiceCard, {
    props: {
      service: {
        name: 'web',
        fullName: 'shop_web',
        image: 'web:1',
        mode: 'replicated',
        replicas: 1,
        runningTasks: 1,
        updateState: null,
        tasks: [
          task('new', 'running', 'running', now),
          task('killed', 'failed', 'shutdown', now, 'task: non-zero exit (137)'),
          task('old', 'shutdown', 'shutdown', long),
        ],
      },
    },
    global: { stubs: { RouterLink: RouterLinkStub } },
  })
  const rows = () => wrapper.findAll('tbody tr[data-task]').map((r) => [r.attributes('data-task'), r.attributes('data-state')])
  expect(rows()).toEqual([
    ['new', 'running'],
    ['killed', 'failed'],
  ])
  expect(wrapper.text()).toContain('task: non-zero exit (137)')
  expect(wrapper.text()).toContain('Failed')
  await wrapper.get('button').trigger('click')
  expect(rows().map((r) => r[0])).toEqual(['new', 'killed', 'old'])
})

it('offers a Logs panel only when it knows the stack', () => {
  const service = {
    name: 'talker',
    fullName: 'shop_talker',
    image: 'busybox',
    mode: 'replicated',
    replicas: 1,
    runningTasks: 1,
    updateState: null,
    tasks: [task('t1', 'running', 'running', now)],
  }
  const stubs = { RouterLink: RouterLinkStub }
  const withStack = mount(ServiceCard, { props: { service, stack: 'shop', target: 'default' }, global: { stubs } })
  const toggle = withStack.findAll('button').find((b) => b.text() === 'Logs')
  expect(toggle?.attributes('aria-expanded')).toBe('false')
  const without = mount(ServiceCard, { props: { service }, global: { stubs } })
  expect(without.findAll('button').some((b) => b.text() === 'Logs')).toBe(false)
})
