import { describe, expect, it } from 'vitest'
import { errorCode, errorMessage, errorProblems, isUnauthenticated, sentence } from './errors'

describe('errors', () => {
  it('turns the API’s messages into sentences', () => {
    expect(sentence('stack web is neither in git nor running')).toBe('Stack web is neither in git nor running.')
    expect(sentence('Done.')).toBe('Done.')
    expect(errorMessage({ graphQLErrors: [{ message: 'a name in use' }, { message: 'another' }] })).toBe('A name in use. Another.')
  })

  it('reads the code and the problems', () => {
    const error = {
      graphQLErrors: [
        {
          message: 'the options are not valid',
          extensions: { code: 'VALIDATION', problems: [{ field: 'options.replicas', message: 'too many' }, 'junk'] },
        },
      ],
    }
    expect(errorCode(error)).toBe('VALIDATION')
    expect(errorProblems(error)).toEqual([{ field: 'options.replicas', message: 'too many' }])
  })

  it('knows a lost session', () => {
    expect(isUnauthenticated({ graphQLErrors: [{ message: 'sign in', extensions: { code: 'UNAUTHENTICATED' } }] })).toBe(true)
    expect(isUnauthenticated({ graphQLErrors: [{ message: 'no', extensions: { code: 'FORBIDDEN' } }] })).toBe(false)
  })

  it('explains network failures without jargon', () => {
    expect(errorMessage({ networkError: new TypeError('Failed to fetch') })).toContain('voc cannot be reached')
    expect(errorMessage({ networkError: Object.assign(new Error('x'), { statusCode: 502 }) })).toContain('HTTP 502')
  })
})
