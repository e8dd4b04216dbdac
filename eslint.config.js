// Lint rules for bbwatch. The import restrictions keep the rooms apart (see README, "Architecture").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test/support/lab/pyext/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off', // stripping control characters from untrusted text is deliberate
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Plain Node scripts (benchmark children).
    files: ['**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', performance: 'readonly', console: 'readonly' } },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters/**', '**/commands/**'],
              message: 'The core knows no adapter or command; only src/cli.ts wires them.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./\\.\\./src/(?!chat/)',
              message: 'Adapters see only src/chat (the Adapter interface and the message model).',
            },
            { group: ['**/commands/**'], message: 'Adapters do not know commands.' },
          ],
        },
      ],
    },
  },
  {
    files: ['commands/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/adapters/**'], message: 'Commands return messages; adapters render them.' },
            {
              regex: '^\\.\\./src/(buildbot|store|notify)/',
              message: 'Commands reach the world only through their context.',
            },
          ],
        },
      ],
    },
  },
);
