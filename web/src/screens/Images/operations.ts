import { graphql } from '@/graphql/generated'

export const ImagesQuery = graphql(`
  query Images {
    images {
      name
      tag
      push
      context
      dockerfile
      buildArgs
      target
      labels
      present
      imageId
      created
      size
      lastBuild {
        id
        status
        finishedAt
        error
      }
    }
  }
`)

export const BuildImageMutation = graphql(`
  mutation BuildImage($name: String!) {
    buildImage(name: $name) {
      ...JobSummary
    }
  }
`)
