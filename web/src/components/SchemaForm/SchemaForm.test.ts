import { mount } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { defineComponent, h, ref } from 'vue'
import SchemaForm from './SchemaForm.vue'
import { fieldsOf, initialValues, toOptions, type FormValues, type SecretPlaceholder } from './schema'

// The options schema of a definition, with one option of each kind.
const schema = {
  type: 'object',
  required: ['image', 'password'],
  properties: {
    image: {
      type: 'string',
      title: 'Image',
      description: 'The image to run, with its tag.',
      pattern: '^[a-z0-9][a-z0-9./:@_-]*$',
      maxLength: 40,
    },
    replicas: { type: 'integer', title: 'Replicas', minimum: 1, maximum: 20, default: 2 },
    ratio: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.5 },
    version: { type: 'string', title: 'Version', enum: ['17', '16', '15'], default: '16' },
    debug: { type: 'boolean', title: 'Debug logging', default: true },
    password: { type: 'string', title: 'Password', writeOnly: true, minLength: 12 },
    domain: { type: 'string', format: 'hostname', title: 'Host name' },
  },
}

function mountForm(options: { current?: unknown; stored?: Record<string, SecretPlaceholder>; serverErrors?: Record<string, string> } = {}) {
  const fields = fieldsOf(schema)
  const values = ref<FormValues>(initialValues(fields, {}, options.current))
  const Host = defineComponent(() => () =>
    h(SchemaForm, {
      fields,
      modelValue: values.value,
      stored: options.stored,
      serverErrors: options.serverErrors,
      'onUpdate:modelValue': (v: FormValues) => (values.value = v),
    }),
  )
  const wrapper = mount(Host, { attachTo: document.body })
  return { wrapper, values, fields }
}

function field(wrapper: ReturnType<typeof mount>, name: string) {
  return wrapper.get(`[data-field="${name}"]`)
}

describe('SchemaForm', () => {
  it('gives each option the control of its kind, labelled', () => {
    const { wrapper } = mountForm()
    expect(field(wrapper, 'image').get('input').attributes('type')).toBe('text')
    expect(field(wrapper, 'replicas').get('input').attributes('type')).toBe('number')
    expect(field(wrapper, 'ratio').get('input').attributes('type')).toBe('number')
    expect(field(wrapper, 'version').find('select').exists()).toBe(true)
    expect(field(wrapper, 'debug').get('input').attributes('type')).toBe('checkbox')
    expect(field(wrapper, 'password').get('input').attributes('type')).toBe('password')
    // Every control has a label that points at it.
    for (const control of wrapper.findAll('input, select, textarea')) {
      const id = control.attributes('id')
      expect(id, 'control without id').toBeTruthy()
      expect(wrapper.find(`label[for="${id}"]`).exists(), `no label for ${id}`).toBe(true)
    }
    expect(wrapper.get('label[for="option-image"]').text()).toContain('Image')
    expect(wrapper.get('label[for="option-ratio"]').text()).toContain('Ratio')
    wrapper.unmount()
  })

  it('turns writeOnly options into password fields that browsers do not autofill', () => {
    const { wrapper } = mountForm()
    const input = field(wrapper, 'password').get('input')
    expect(input.attributes('type')).toBe('password')
    expect(input.attributes('autocomplete')).toBe('new-password')
    wrapper.unmount()
  })

  it('fills the defaults', () => {
    const { wrapper, values, fields } = mountForm()
    expect((field(wrapper, 'replicas').get('input').element as HTMLInputElement).value).toBe('2')
    expect((field(wrapper, 'ratio').get('input').element as HTMLInputElement).value).toBe('0.5')
    const select = field(wrapper, 'version').get('select').element as HTMLSelectElement
    expect(select.options[select.selectedIndex]?.text).toBe('16')
    expect((field(wrapper, 'debug').get('input').element as HTMLInputElement).checked).toBe(true)
    expect(toOptions(fields, values.value)).toEqual({ replicas: 2, ratio: 0.5, version: '16', debug: true })
    wrapper.unmount()
  })

  it('puts bounds on number inputs and says them in the help text', () => {
    const { wrapper } = mountForm()
    const input = field(wrapper, 'replicas').get('input')
    expect(input.attributes('min')).toBe('1')
    expect(input.attributes('max')).toBe('20')
    expect(input.attributes('step')).toBe('1')
    expect(field(wrapper, 'replicas').get('.help').text()).toContain('1 to 20')
    expect(field(wrapper, 'image').get('.help').text()).toContain('The image to run, with its tag.')
    wrapper.unmount()
  })

  it('offers the enum values in the select and sends the chosen one', async () => {
    const { wrapper, values, fields } = mountForm()
    const select = field(wrapper, 'version').get('select')
    const labels = select.findAll('option').map((o) => o.text())
    expect(labels).toEqual(['17', '16', '15'])
    await select.setValue('2')
    expect(toOptions(fields, values.value).version).toBe('15')
    wrapper.unmount()
  })

  it('shows a number out of bounds at its field as the user types', async () => {
    const { wrapper } = mountForm()
    const input = field(wrapper, 'replicas').get('input')
    expect(field(wrapper, 'replicas').find('.field-error').exists()).toBe(false)
    await input.setValue('25')
    const error = field(wrapper, 'replicas').get('.field-error')
    expect(error.text()).toBe('Enter a value from 1 to 20.')
    expect(input.attributes('aria-invalid')).toBe('true')
    expect(input.attributes('aria-describedby')).toContain(error.attributes('id'))
    await input.setValue('3')
    expect(field(wrapper, 'replicas').find('.field-error').exists()).toBe(false)
    expect(input.attributes('aria-invalid')).toBeUndefined()
    wrapper.unmount()
  })

  it('explains exclusive bounds, patterns, lengths and host names', async () => {
    const { wrapper } = mountForm()
    await field(wrapper, 'ratio').get('input').setValue('0')
    expect(field(wrapper, 'ratio').get('.field-error').text()).toBe('Enter more than 0.')
    await field(wrapper, 'image').get('input').setValue('Nginx')
    expect(field(wrapper, 'image').get('.field-error').text()).toContain('expected form')
    await field(wrapper, 'password').get('input').setValue('short')
    expect(field(wrapper, 'password').get('.field-error').text()).toBe('Enter at least 12 characters (now 5).')
    await field(wrapper, 'domain').get('input').setValue('not a host')
    expect(field(wrapper, 'domain').get('.field-error').text()).toContain('host name')
    wrapper.unmount()
  })

  it('says a required field is empty once the user leaves it', async () => {
    const { wrapper } = mountForm()
    const input = field(wrapper, 'image').get('input')
    expect(field(wrapper, 'image').find('.field-error').exists()).toBe(false)
    await input.trigger('blur')
    expect(field(wrapper, 'image').get('.field-error').text()).toBe('Enter a value.')
    expect(wrapper.get('label[for="option-image"]').text()).toContain('required')
    wrapper.unmount()
  })

  it('shows the server’s problem at its field', () => {
    const { wrapper } = mountForm({
      current: { image: 'nginx:nope' },
      serverErrors: { image: 'Image nginx:nope does not exist.' },
    })
    expect(field(wrapper, 'image').get('.field-error').text()).toBe('Image nginx:nope does not exist.')
    wrapper.unmount()
  })

  it('keeps the server’s “required” quiet on a new, untouched form', async () => {
    const { wrapper } = mountForm({ serverErrors: { image: 'Image is required.' } })
    expect(field(wrapper, 'image').find('.field-error').exists()).toBe(false)
    await field(wrapper, 'image').get('input').trigger('blur')
    expect(field(wrapper, 'image').get('.field-error').text()).toBe('Enter a value.')
    wrapper.unmount()
  })

  it('keeps a stored secret when its field is left empty', () => {
    const placeholder = { $secret: 'VOC_SECRET_PASSWORD' }
    const { wrapper, values, fields } = mountForm({
      current: { image: 'web:1', password: placeholder },
      stored: { password: placeholder },
    })
    const input = field(wrapper, 'password').get('input')
    expect((input.element as HTMLInputElement).value).toBe('')
    expect(input.attributes('placeholder')).toContain('leave empty to keep')
    expect(input.attributes('required')).toBeUndefined()
    expect(toOptions(fields, values.value, { password: placeholder }).password).toEqual(placeholder)
    wrapper.unmount()
  })

  it('sends typed numbers as numbers and leaves out empty optional values', async () => {
    const { wrapper, values, fields } = mountForm()
    await field(wrapper, 'image').get('input').setValue('nginx:1.27')
    await field(wrapper, 'replicas').get('input').setValue('4')
    await field(wrapper, 'debug').get('input').setValue(false)
    expect(toOptions(fields, values.value)).toEqual({
      image: 'nginx:1.27',
      replicas: 4,
      ratio: 0.5,
      version: '16',
      debug: false,
    })
    wrapper.unmount()
  })
})
