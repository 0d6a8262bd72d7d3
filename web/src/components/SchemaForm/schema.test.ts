import { describe, expect, it } from 'vitest'
import { fieldsOf, humanize, initialValues, validateField, type FormField } from './schema'

const base: FormField = { name: 'x', kind: 'text', label: 'X', help: '', required: false, secret: false }

describe('fieldsOf', () => {
  it('reads nothing from a schema without properties', () => {
    expect(fieldsOf(null)).toEqual([])
    expect(fieldsOf({ type: 'object' })).toEqual([])
  })

  it('keeps the schema’s order and reads nullable types', () => {
    const fields = fieldsOf({
      properties: { b: { type: ['integer', 'null'] }, a: { type: 'array' }, c: { const: 'x' } },
    })
    expect(fields.map((f) => [f.name, f.kind])).toEqual([
      ['b', 'integer'],
      ['a', 'json'],
      ['c', 'select'],
    ])
  })
})

describe('validateField', () => {
  it('accepts only whole numbers for integers', () => {
    const field = { ...base, kind: 'integer' as const }
    expect(validateField(field, '1.5')).toBe('Enter a whole number.')
    expect(validateField(field, '-3')).toBe('')
  })

  it('checks multipleOf', () => {
    expect(validateField({ ...base, kind: 'number', multipleOf: 0.5 }, '1.25')).toBe('Enter a multiple of 0.5.')
    expect(validateField({ ...base, kind: 'number', multipleOf: 0.5 }, '1.5')).toBe('')
  })

  it('lets an empty optional field be', () => {
    expect(validateField({ ...base, kind: 'integer', minimum: 3 }, '')).toBe('')
  })

  it('does not require a secret that is stored', () => {
    const field = { ...base, kind: 'password' as const, secret: true, required: true }
    expect(validateField(field, '', true)).toBe('')
    expect(validateField(field, '', false)).toBe('Enter a value.')
  })
})

describe('initialValues', () => {
  it('prefers the stack’s options, then the definition’s defaults, then the schema’s', () => {
    const fields = fieldsOf({
      properties: {
        a: { type: 'integer', default: 1 },
        b: { type: 'integer', default: 1 },
        c: { type: 'integer', default: 1 },
      },
    })
    expect(initialValues(fields, { b: 2, c: 2 }, { c: 3 })).toEqual({ a: '1', b: '2', c: '3' })
  })
})

it('humanizes option names', () => {
  expect(humanize('containerPort')).toBe('Container port')
  expect(humanize('memory_limit')).toBe('Memory limit')
})
