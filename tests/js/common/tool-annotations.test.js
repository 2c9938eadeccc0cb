// How Satchel reads a tool's annotations (app/common/tool-annotations.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { changesIdempotently } from "../../../app/common/tool-annotations.js";

test("only a tool that changes something idempotently is safe to send again", () => {
  assert.equal(changesIdempotently({ annotations: { idempotentHint: true } }), true);
  assert.equal(changesIdempotently({ annotations: { idempotentHint: true, readOnlyHint: false } }), true);
  assert.equal(changesIdempotently({ annotations: { idempotentHint: true, readOnlyHint: true } }), false);
  assert.equal(changesIdempotently({ annotations: { idempotentHint: false } }), false);
  assert.equal(changesIdempotently({ annotations: {} }), false);
  assert.equal(changesIdempotently({}), false);
});
