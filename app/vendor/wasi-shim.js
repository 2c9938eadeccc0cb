// Entry point bundled by esbuild into dist/vendor/wasi-shim.js: WASI for the WebAssembly MCP servers that
// workers/wasi-server.js hosts (@bjorn3/browser_wasi_shim: an in-memory file system, stdio callbacks).
export { ConsoleStdout, File, OpenFile, PreopenDirectory, WASI } from "@bjorn3/browser_wasi_shim";
