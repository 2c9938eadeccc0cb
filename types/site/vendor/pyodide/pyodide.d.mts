// `satchel build` copies the Pyodide runtime into dist/vendor/pyodide/ (docs/architecture.md, step 5); it is not
// under app/, so `tsc` finds this stand-in instead (tsconfig.json `rootDirs`): the types of the npm package it is.
export { loadPyodide } from "pyodide";
