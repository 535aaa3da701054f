// Lint: typescript-eslint's recommended rules on all TypeScript, plus Figma's official rules on the Figma
// main-thread code (deprecated sync APIs that "documentAccess": "dynamic-page" forbids, await inside non-async
// functions). Figma's rules read types, so that part runs with the TypeScript project service.
import figmaPlugins from '@figma/eslint-plugin-figma-plugins';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const figmaFiles = ['plugin/figma/**/*.ts'];

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', 'models/build/**', 'bench/results/**', 'test/unit/ui-harness/*.js'] },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [tseslint.configs.recommended],
  },
  {
    files: figmaFiles,
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: figmaPlugins.flatConfigs.recommended.plugins,
    rules: figmaPlugins.flatConfigs.recommended.rules,
  },
);
