// Lint of the explorer (`npx eslint .` in web/, run by scripts/web-check.sh): the typescript-eslint
// recommended rules with type information, React hooks rules. The generated contract clients
// (src/contracts/, from schema/ by @cosmwasm/ts-codegen) are not ours to lint.
import js from "@eslint/js";
import globals from "globals";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "src/contracts/", "test-results/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["src/**/*.{ts,tsx}"],
    languageOptions: { globals: globals.browser },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      eqeqeq: "error",
    },
  },
  {
    files: ["tests/**/*.mjs", "*.js", "*.ts"],
    languageOptions: { globals: globals.node },
  },
);
