import type { CodegenConfig } from '@graphql-codegen/cli';

// The schema is read from the server's schema files by glob, whatever they
// are called (.graphqls, or .graphql for the generated Ent part), so a
// renamed or added file needs no change here.
const config: CodegenConfig = {
  schema: ['../../schema.graphqls', '../../graph/*.graphqls', '../../graph/*.graphql'],
  documents: ['src/operations/*.graphql'],
  generates: {
    'src/generated/graphql.ts': {
      plugins: ['typescript-operations', 'typed-document-node'],
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        // The schema's wording is not the client's: a reworded description
        // must not make the generated file stale.
        disableDescriptions: true,
        avoidOptionals: { field: true, inputValue: false, object: false },
        scalars: {
          ID: 'string',
          Time: 'string',
          Cursor: 'string',
          Upload: 'File | Blob',
        },
      },
    },
  },
};

export default config;
