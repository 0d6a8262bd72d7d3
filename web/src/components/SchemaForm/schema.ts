// The form of a stack definition's options, read from its JSON Schema:
// which control each option gets, its initial value, what is wrong with
// what the user typed, and the options object sent to the API.
//
// Values are kept as the controls hold them (strings for text, numbers
// and selects; booleans for checkboxes) so that a half-typed number can be
// shown and explained instead of silently dropped.

export type FieldKind = 'text' | 'password' | 'integer' | 'number' | 'select' | 'boolean' | 'json'

export interface FormField {
  name: string
  kind: FieldKind
  label: string
  /** The schema's description. */
  help: string
  required: boolean
  /** `writeOnly`: a secret, typed into a password field. */
  secret: boolean
  default?: unknown
  choices?: unknown[]
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  multipleOf?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  format?: string
  examples?: unknown[]
}

export type FieldValue = string | boolean
export type FormValues = Record<string, FieldValue>

/** The `{"$secret": "VOC_SECRET_…"}` the API shows in place of a stored secret. */
export interface SecretPlaceholder {
  $secret: string
}

export function isSecretPlaceholder(value: unknown): value is SecretPlaceholder {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as Record<string, unknown>).$secret === 'string'
  )
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** "containerPort" → "Container port", for options without a title. */
export function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

function typeOf(property: Json): string | undefined {
  const type = property.type
  if (typeof type === 'string') return type
  // ["string", "null"]: an optional value of one type.
  if (Array.isArray(type)) return type.find((t): t is string => typeof t === 'string' && t !== 'null')
  return undefined
}

function kindOf(property: Json): FieldKind {
  if (Array.isArray(property.enum)) return 'select'
  if (property.const !== undefined) return 'select'
  switch (typeOf(property)) {
    case 'boolean':
      return 'boolean'
    case 'integer':
      return 'integer'
    case 'number':
      return 'number'
    case 'string':
      return property.writeOnly === true ? 'password' : 'text'
    case undefined:
      return property.writeOnly === true ? 'password' : 'text'
    default:
      return 'json'
  }
}

/** The fields of an options schema, in the schema's order. */
export function fieldsOf(schema: unknown): FormField[] {
  if (!isObject(schema) || !isObject(schema.properties)) return []
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === 'string') : [])
  return Object.entries(schema.properties).flatMap(([name, raw]): FormField[] => {
    if (!isObject(raw)) return []
    const kind = kindOf(raw)
    return [
      {
        name,
        kind,
        label: str(raw.title) ?? humanize(name),
        help: str(raw.description) ?? '',
        required: required.has(name),
        secret: raw.writeOnly === true,
        default: raw.default,
        choices: Array.isArray(raw.enum) ? raw.enum : raw.const !== undefined ? [raw.const] : undefined,
        minimum: num(raw.minimum),
        maximum: num(raw.maximum),
        exclusiveMinimum: num(raw.exclusiveMinimum),
        exclusiveMaximum: num(raw.exclusiveMaximum),
        multipleOf: num(raw.multipleOf),
        minLength: num(raw.minLength),
        maxLength: num(raw.maxLength),
        pattern: str(raw.pattern),
        format: str(raw.format),
        examples: Array.isArray(raw.examples) ? raw.examples : undefined,
      },
    ]
  })
}

/** A JSON value as its control holds it. */
function toFieldValue(field: FormField, value: unknown): FieldValue {
  if (field.kind === 'boolean') return value === true
  if (value === undefined || value === null) return ''
  if (field.kind === 'json') return JSON.stringify(value, null, 2)
  if (field.kind === 'select') {
    const index = field.choices?.findIndex((c) => JSON.stringify(c) === JSON.stringify(value)) ?? -1
    return index >= 0 ? String(index) : ''
  }
  return typeof value === 'string' ? value : String(value)
}

/**
 * The values a form starts with: `current` (a stack's options) where it
 * has the option, else `defaults` (the definition's), else the schema's
 * default.
 * Stored secrets start empty: leaving them empty keeps them.
 */
export function initialValues(fields: FormField[], defaults: unknown = {}, current?: unknown): FormValues {
  const values: FormValues = {}
  for (const field of fields) {
    let value: unknown = field.default
    if (isObject(current) && field.name in current) value = current[field.name]
    else if (isObject(defaults) && field.name in defaults) value = defaults[field.name]
    if (isSecretPlaceholder(value)) value = undefined
    values[field.name] = toFieldValue(field, value)
  }
  return values
}

/** The names of the secrets `current` holds as placeholders (kept when left empty). */
export function storedSecrets(current: unknown): Record<string, SecretPlaceholder> {
  const stored: Record<string, SecretPlaceholder> = {}
  if (isObject(current)) {
    for (const [name, value] of Object.entries(current)) {
      if (isSecretPlaceholder(value)) stored[name] = value
    }
  }
  return stored
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i
const EMAIL = /^[^\s@]+@[^\s@]+$/

/** Why `value` is not acceptable for `field`, or '' when it is. */
export function validateField(field: FormField, value: FieldValue | undefined, hasStored = false): string {
  if (field.kind === 'boolean') return ''
  const text = typeof value === 'string' ? value : ''
  if (text.trim() === '') {
    if (field.required && !(field.secret && hasStored)) {
      return field.kind === 'select' ? 'Choose a value.' : 'Enter a value.'
    }
    return ''
  }
  switch (field.kind) {
    case 'integer':
    case 'number': {
      const n = Number(text)
      if (field.kind === 'integer' && !/^\s*[-+]?\d+\s*$/.test(text)) return 'Enter a whole number.'
      if (!Number.isFinite(n)) return 'Enter a number.'
      return boundsError(field, n)
    }
    case 'select': {
      const index = Number(text)
      return Number.isInteger(index) && field.choices && index >= 0 && index < field.choices.length
        ? ''
        : 'Choose one of the listed values.'
    }
    case 'json': {
      try {
        JSON.parse(text)
        return ''
      } catch {
        return 'Enter valid JSON.'
      }
    }
    default:
      return textError(field, text)
  }
}

function boundsError(field: FormField, n: number): string {
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf } = field
  if (minimum !== undefined && maximum !== undefined && (n < minimum || n > maximum)) {
    return `Enter a value from ${minimum} to ${maximum}.`
  }
  if (minimum !== undefined && n < minimum) return `Enter at least ${minimum}.`
  if (maximum !== undefined && n > maximum) return `Enter at most ${maximum}.`
  if (exclusiveMinimum !== undefined && n <= exclusiveMinimum) return `Enter more than ${exclusiveMinimum}.`
  if (exclusiveMaximum !== undefined && n >= exclusiveMaximum) return `Enter less than ${exclusiveMaximum}.`
  if (multipleOf !== undefined && multipleOf > 0 && Math.abs(n / multipleOf - Math.round(n / multipleOf)) > 1e-9) {
    return `Enter a multiple of ${multipleOf}.`
  }
  return ''
}

function textError(field: FormField, text: string): string {
  const length = [...text].length
  if (field.minLength !== undefined && length < field.minLength) {
    return `Enter at least ${plural(field.minLength, 'character', 'characters')} (now ${length}).`
  }
  if (field.maxLength !== undefined && length > field.maxLength) {
    return `Enter at most ${plural(field.maxLength, 'character', 'characters')} (now ${length}).`
  }
  if (field.format === 'hostname' && !HOSTNAME.test(text)) return 'Enter a host name, such as app.example.com.'
  if (field.format === 'email' && !EMAIL.test(text)) return 'Enter an e-mail address.'
  if (field.pattern !== undefined) {
    let pattern: RegExp | null = null
    try {
      pattern = new RegExp(field.pattern, 'u')
    } catch {
      pattern = null // a pattern JavaScript cannot read: the server checks it
    }
    if (pattern && !pattern.test(text)) return `Does not have the expected form (${field.pattern}).`
  }
  return ''
}

/** Every field's problem, by name (fields without one left out). */
export function validateAll(
  fields: FormField[],
  values: FormValues,
  stored: Record<string, SecretPlaceholder> = {},
): Record<string, string> {
  const errors: Record<string, string> = {}
  for (const field of fields) {
    const error = validateField(field, values[field.name], field.name in stored)
    if (error) errors[field.name] = error
  }
  return errors
}

/**
 * The options object for the API. Empty optional values are left out (the
 * server applies defaults); an empty secret that is stored sends its
 * placeholder, which keeps it. Values that do not parse are sent as typed,
 * so the server's preview explains them too.
 */
export function toOptions(
  fields: FormField[],
  values: FormValues,
  stored: Record<string, SecretPlaceholder> = {},
): Record<string, unknown> {
  const options: Record<string, unknown> = {}
  for (const field of fields) {
    const value = values[field.name]
    if (field.kind === 'boolean') {
      options[field.name] = value === true
      continue
    }
    const text = typeof value === 'string' ? value : ''
    if (text.trim() === '') {
      const placeholder = stored[field.name]
      if (field.secret && placeholder) options[field.name] = placeholder
      continue
    }
    switch (field.kind) {
      case 'integer':
      case 'number': {
        const n = Number(text)
        options[field.name] = Number.isFinite(n) ? n : text
        break
      }
      case 'select':
        options[field.name] = field.choices?.[Number(text)] ?? text
        break
      case 'json':
        try {
          options[field.name] = JSON.parse(text)
        } catch {
          options[field.name] = text
        }
        break
      default:
        options[field.name] = text
    }
  }
  return options
}

/** A short hint of what a field accepts ("1 to 65535", "12 to 200 characters"). */
export function describeBounds(field: FormField): string {
  const parts: string[] = []
  if (field.kind === 'integer' || field.kind === 'number') {
    const { minimum: lo, maximum: hi } = field
    if (lo !== undefined && hi !== undefined) parts.push(`${lo} to ${hi}`)
    else if (lo !== undefined) parts.push(`at least ${lo}`)
    else if (hi !== undefined) parts.push(`at most ${hi}`)
    if (field.kind === 'integer') parts.push('whole number')
  }
  if (field.kind === 'text' || field.kind === 'password') {
    const { minLength: lo, maxLength: hi } = field
    if (lo !== undefined && hi !== undefined) parts.push(`${lo} to ${hi} characters`)
    else if (lo !== undefined) parts.push(`at least ${plural(lo, 'character', 'characters')}`)
    else if (hi !== undefined) parts.push(`at most ${plural(hi, 'character', 'characters')}`)
  }
  if (field.default !== undefined && !field.secret && field.kind !== 'boolean') {
    parts.push(`default ${typeof field.default === 'string' ? field.default : JSON.stringify(field.default)}`)
  }
  return parts.join(' · ')
}
