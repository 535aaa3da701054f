// Lint for the Figma main-thread code: typescript-eslint's recommended rules plus Figma's official rules
// (deprecated sync APIs that "documentAccess": "dynamic-page" forbids, await inside non-async functions).
// Figma's rules read types, so the parser runs with the TypeScript project service.
import figmaPlugins from '@figma/eslint-plugin-figma-plugins';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const figmaFiles = ['plugin/figma/**/*.ts'];

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**'] },
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
