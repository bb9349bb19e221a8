import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", ".package/", ".amlguard/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // The approval page's browser script (a classic script: MSAL's UMD bundle defines the global msal).
    files: ["src/approval-page/assets/**/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: { window: "readonly", document: "readonly", fetch: "readonly", URL: "readonly", URLSearchParams: "readonly", msal: "readonly" },
    },
  },
  {
    // Tests reach into raw ARM JSON of many shapes; typing every path would hide what they check.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
