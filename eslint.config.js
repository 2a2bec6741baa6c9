import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "**/target/**", "docs/**", "infra/**/target/**", ".run/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Parse at boundaries with zod instead of asserting types (STYLE.md "Events, jobs, HTTP schemas").
      "@typescript-eslint/consistent-type-assertions": ["error", { assertionStyle: "never" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/no-floating-promises": "error",
      // Async functions that satisfy a Promise-returning interface need not await anything.
      "@typescript-eslint/require-await": "off",
      "no-restricted-syntax": [
        "error",
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: "Read the environment once, through loadConfig() in main.ts.",
        },
      ],
    },
  },
  {
    // Apps stay thin and have no barrel files (STYLE.md "Naming and files").
    files: ["services/**/index.ts"],
    rules: { "no-restricted-syntax": ["error", { selector: "Program", message: "No index.ts inside services." }] },
  },
  {
    // The composition roots, the config loader and infra tooling are where the environment is read.
    files: ["**/main.ts", "packages/config/src/**", "packages/testkit/src/**", "scripts/**", "examples/**", "bench/**", "**/*.cli.ts", "**/*.test.ts"],
    rules: { "no-restricted-syntax": "off" },
  },
  {
    // vitest's asymmetric matchers (expect.objectContaining, expect.any) are typed `any`.
    files: ["**/*.test.ts"],
    rules: { "@typescript-eslint/no-unsafe-assignment": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: "readonly", console: "readonly", URL: "readonly" },
    },
  },
);
