import { expect, it } from 'vitest'
import { sortProblems } from './usePreview'

it('puts each problem where it belongs', () => {
  const sorted = sortProblems([
    { field: 'options.replicas', file: null, line: null, message: 'replicas must be at most 20' },
    { field: 'name', file: null, line: null, message: 'name is in use' },
    { field: 'services.web.deploy.replicas', file: 'docker-compose-x.yml', line: 7, message: 'bad' },
    { field: null, file: 'definitions/webapp/docker-compose.yml.tera', line: 3, message: 'template error' },
  ])
  expect(sorted.fields).toEqual({ replicas: 'Replicas must be at most 20.' })
  expect(sorted.name).toBe('Name is in use.')
  expect(sorted.other.map((p) => p.line)).toEqual([7, 3])
})
