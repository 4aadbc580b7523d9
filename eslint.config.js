// One lint configuration for every workspace; each package runs `eslint .` from its own folder.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.state/**', '**/coverage/**', '**/.stryker-tmp/**', '**/reports/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration once at boot through @postwire/config; pass it down.',
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**', '**/vitest.config.ts', '**/src/server.ts', '**/src/cli.ts', '**/src/*-cli.ts', '**/global-setup.ts', '**/bench/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
