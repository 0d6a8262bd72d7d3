import { graphql } from '@/graphql/generated'

export const StackDefinitionsQuery = graphql(`
  query StackDefinitions {
    stackDefinitions {
      name
      title
      description
      version
      readme
      stacks
    }
    targets {
      name
      reachable
      swarmManager
    }
  }
`)

export const StackDefinitionQuery = graphql(`
  query StackDefinition($name: String!) {
    stackDefinition(name: $name) {
      name
      title
      description
      version
      optionsSchema
      defaults
      readme
    }
  }
`)

export const PreviewStackMutation = graphql(`
  mutation PreviewStack($definition: String!, $options: JSON!, $name: String) {
    previewStack(definition: $definition, options: $options, name: $name) {
      valid
      compose
      warnings
      problems {
        field
        file
        line
        message
      }
    }
  }
`)

export const CreateStackMutation = graphql(`
  mutation CreateStack($input: CreateStackInput!) {
    createStack(input: $input) {
      ...StackChangeFields
    }
  }
`)
