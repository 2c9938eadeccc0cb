// eslint's recommended rules over the browser code (app/) and its unit tests (tests/js/); `scripts/check.sh` runs it.
import js from "@eslint/js";
import globals from "globals";

export default [
  // Set-up and build outputs, and Python's caches: nothing of ours to lint.
  { ignores: ["dist/", "build/", "node_modules/", ".cache/", ".venv/", "bench/", "wasm/", "satchel/", "models/"] },
  js.configs.recommended,
  {
    files: ["app/**/*.js"],
    languageOptions: {
      globals: { ...globals.browser, ...globals.serviceworker, ...globals.worker },
    },
  },
  {
    files: ["app/page/audio/capture-worklet.js"],
    languageOptions: { globals: { ...globals.audioWorklet } },
  },
  {
    files: ["tests/**/*.js", "tests/**/*.mjs", "eslint.config.js"],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    rules: {
      // `for await (const _ of messages);` drains an iterator, `const [_, rest]` skips an item: `_` is unused on purpose.
      "no-unused-vars": ["error", { varsIgnorePattern: "^_", argsIgnorePattern: "^_" }],
    },
  },
];
