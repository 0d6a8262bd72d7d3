// The live preview of a stack being written: previewStack, called a moment
// after the user stops typing, its answers applied in order (a slow answer
// to an old input never replaces a newer one). The problems are sorted by
// where they belong: at a form field, or at a line of a file.
import { useMutation } from '@vue/apollo-composable'
import { computed, ref, watch, type Ref } from 'vue'
import { errorMessage, sentence } from '@/graphql/errors'
import type { PreviewStackMutation as Preview } from '@/graphql/generated/graphql'
import { PreviewStackMutation } from './operations'

type Problem = Preview['previewStack']['problems'][number]

export interface PreviewInput {
  definition: string
  name: string
  options: Record<string, unknown>
}

/** Splits problems into option fields (`options.<name>`), `name`, and the rest. */
export function sortProblems(problems: readonly Problem[]) {
  const fields: Record<string, string> = {}
  let name = ''
  const other: Problem[] = []
  for (const p of problems) {
    const option = p.field?.startsWith('options.') ? p.field.slice('options.'.length) : null
    if (option && !option.includes('.') && !fields[option]) fields[option] = sentence(p.message)
    else if (p.field === 'name' && !name) name = sentence(p.message)
    else other.push(p)
  }
  return { fields, name, other }
}

export function usePreview(input: Ref<PreviewInput | null>, waitMs = 350) {
  const { mutate } = useMutation(PreviewStackMutation)
  const preview = ref<Preview['previewStack'] | null>(null)
  /** The last valid render, kept while the input is not valid. */
  const lastCompose = ref('')
  const error = ref('')
  const pending = ref(false)
  let sent = 0
  let timer: ReturnType<typeof setTimeout> | undefined

  async function run(value: PreviewInput, id: number) {
    try {
      const answer = await mutate({ definition: value.definition, options: value.options, name: value.name || null })
      if (id !== sent || !answer?.data) return
      preview.value = answer.data.previewStack
      if (answer.data.previewStack.compose) lastCompose.value = answer.data.previewStack.compose
      error.value = ''
    } catch (e) {
      if (id === sent) error.value = errorMessage(e)
    } finally {
      if (id === sent) pending.value = false
    }
  }

  watch(
    input,
    (value) => {
      clearTimeout(timer)
      if (value === null) return
      pending.value = true
      const id = ++sent
      timer = setTimeout(() => void run(value, id), waitMs)
    },
    { deep: true, immediate: true },
  )

  const problems = computed(() => sortProblems(preview.value?.problems ?? []))
  return { preview, lastCompose, problems, error, pending }
}
