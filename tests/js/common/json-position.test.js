// Where JSON stops being JSON (app/common/json-position.js): the position every parse error of a pasted
// configuration names, whether or not V8's own message has one.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { jsonErrorDetail, jsonErrorIndex } from "../../../app/common/json-position.js";

/** @param {string} text */
function parseError(text) {
  try {
    JSON.parse(text);
  } catch (error) {
    return /** @type {Error} */ (error);
  }
  throw new Error(`${text} is JSON`);
}

describe("jsonErrorIndex", () => {
  for (const text of ['{"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9"], "b": {}}', "[]", ' "text" ', "0"]) {
    test(`is -1 for JSON: ${text}`, () => assert.equal(jsonErrorIndex(text), -1));
  }

  for (const [text, index, what] of /** @type {[string, number, string][]} */ ([
    ['{"a": }', 6, "a missing value"],
    ["{a: 1}", 1, "an unquoted key"],
    ['{"a": 1,}', 8, "a trailing comma in an object"],
    ["[1, 2,]", 6, "a trailing comma in an array"],
    ['{"a" 1}', 5, "a missing colon"],
    ['{"a": "x', 8, "an unterminated string"],
    ['"\\u12g4"', 2, "a bad unicode escape"],
    ['{"a": 1} x', 9, "text after the value"],
    ["01", 1, "a leading zero"],
    ["tru", 0, "a misspelt literal"],
    ["", 0, "nothing at all"],
  ])) {
    test(`points at ${what}`, () => assert.equal(jsonErrorIndex(text), index));
  }

  test("deep nesting cannot overflow the stack", () => {
    assert.equal(jsonErrorIndex("[".repeat(200_000)), 200_000);
  });
});

describe("jsonErrorDetail", () => {
  test("names the line and column even where V8 names no position", () => {
    const text = '{\n  "mcpServers": {\n    "x": }\n}';
    assert.match(jsonErrorDetail(text, parseError(text)), /^Unexpected token '\}' at line 3, column 10$/);
  });

  test("replaces V8's position by the line and column", () => {
    const text = '{"a": 1,}';
    const detail = jsonErrorDetail(text, parseError(text));
    assert.doesNotMatch(detail, /position/);
    assert.match(detail, / at line 1, column 9$/);
  });
});
