"""Helpers shared by the tests and `bench/`, one home for each: free ports, the stdio MCP driver, the served app,
the browser and the app page. Modules that need Playwright (`browser`, `app_page`) are apart from the rest, so a
test that drives no browser never imports it."""
