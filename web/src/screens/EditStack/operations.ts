import { graphql } from '@/graphql/generated'

export const EditStackQuery = graphql(`
  query EditStack($name: String!) {
    stack(name: $name) {
      target
      name
      options
      composeFile
      definition {
        name
        version
      }
    }
  }
`)

export const UpdateStackMutation = graphql(`
  mutation UpdateStack($name: String!, $input: UpdateStackInput!) {
    updateStack(name: $name, input: $input) {
      ...StackChangeFields
    }
  }
`)
