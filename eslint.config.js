// Lint rules for bbwatch. The import restrictions keep the rooms apart (see README, "Architecture").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Buildbot's REST collections and web UI routes: a string that starts with one as a path
 * (`builds/12/steps`), or names one after `#/` or `api/v2/` anywhere, speaks Buildbot.
 */
const COLLECTIONS =
  '(builders|builds|buildrequests|buildsets|changes|forceschedulers|logs|masters|schedulers|steps|workers)';
const REST_PATH = String.raw`^\/?${COLLECTIONS}\/`;
const URL_SHAPE = String.raw`(#|api)\/(v2\/)?${COLLECTIONS}|api\/v2`;
const WALL = 'Buildbot is spoken in src/buildbot only:';
const PATH_MESSAGE = `${WALL} call a typed method of BuildbotRest or a URL helper of src/buildbot/urls.ts.`;
const RESULTS_MESSAGE = `${WALL} compare results with the names of src/buildbot/results.ts (Results.FAILURE, isVerdict ...).`;
/** `side` of a comparison is a number literal. */
const number = (side) => `[${side}.type='Literal'][${side}.raw=/^[0-9]/]`;
const BUILDBOT_WALL = [
  { selector: `Literal[value=/${REST_PATH}|${URL_SHAPE}/]`, message: PATH_MESSAGE },
  // A template's first piece starts the path (`builds/${id}`); later pieces follow a base that may be
  // the bot's own (the dashboard's `${root}builders/...`), so only `#/...` and `api/v2` count there.
  { selector: `TemplateElement:first-child[value.raw=/${REST_PATH}/]`, message: PATH_MESSAGE },
  { selector: `TemplateElement[value.raw=/${URL_SHAPE}/]`, message: PATH_MESSAGE },
  { selector: `BinaryExpression[left.property.name='results']${number('right')}`, message: RESULTS_MESSAGE },
  { selector: `BinaryExpression[right.property.name='results']${number('left')}`, message: RESULTS_MESSAGE },
  {
    selector: `SwitchStatement[discriminant.name='results'] > SwitchCase${number('test')}`,
    message: RESULTS_MESSAGE,
  },
];

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
    // Type-aware rules need the type checker: the TypeScript files are linted with their project.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // A promise nobody awaits loses its error; `void` says fire-and-forget is meant (with a comment why).
      '@typescript-eslint/no-floating-promises': 'error',
      // The store is asynchronous: a promise tested as a condition (always true) or awaited when it
      // is not one is a missed or needless `await`. Callbacks that return promises are fine.
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // The Buildbot wall: REST paths, web UI URL shapes and numeric result codes live in src/buildbot
    // only (its typed client, src/buildbot/urls.ts and src/buildbot/results.ts).
    files: ['src/**/*.ts', 'commands/**/*.ts', 'adapters/**/*.ts'],
    ignores: ['src/buildbot/**'],
    rules: { 'no-restricted-syntax': ['error', ...BUILDBOT_WALL] },
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
