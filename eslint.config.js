// @ts-check
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'

const ENV_ALLOWED = [
  '**/src/main.ts',
  '**/src/config.ts',
  'packages/config/**',
  '**/test/**',
  '**/*.test.ts',
  '**/src/testing.ts',
  '**/src/cli/main.ts',
  // The worker image's HEALTHCHECK entry point.
  'apps/worker/src/healthcheck.ts',
  'bench/**',
  'faults/**',
  'scripts/**',
]

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '.tap/**',
      'packages/db/src/database.types.ts',
      'coverage/**',
      '.tmp/**',
      'apps/web/dist/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Fastify handlers and plugins are async by contract, with or without an await inside.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'read the environment only in main.ts/config.ts',
        },
      ],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@xeno/*/src/*', '@xeno/*/src'],
              message: 'import a package by its name, not its src/',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts', 'bench/**/*.ts', 'faults/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // tap's t.test() returns a promise the runner tracks itself.
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  { files: ENV_ALLOWED, rules: { 'no-restricted-properties': 'off' } },
  // The dashboard runs in the browser (its build config reads the environment like a script).
  { files: ['apps/web/src/**'], languageOptions: { globals: globals.browser } },
  { files: ['apps/web/vite.config.ts'], rules: { 'no-restricted-properties': 'off' } },
  { files: ['eslint.config.js'], ...tseslint.configs.disableTypeChecked },
)
