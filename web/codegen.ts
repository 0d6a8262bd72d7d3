// Typed GraphQL operations from the server's schema.graphql. The output
// (src/graphql/generated/) is committed, so a build never needs this to
// run first; run `npm run codegen` after changing an operation or when
// schema.graphql changes.
import type { CodegenConfig } from '@graphql-codegen/cli'

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,vue}', '!src/graphql/generated/**', '!src/**/*.test.ts'],
  ignoreNoDocuments: true,
  generates: {
    'src/graphql/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { JSON: 'unknown' },
        skipTypename: false,
      },
    },
  },
}

export default config
