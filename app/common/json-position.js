// Where JSON text stops being JSON, for error messages a person can act on: V8's JSON.parse names a position for
// some faults and none for others ("Unexpected token 'x'"), so the position is found here, the same way for all.

/**
 * Where JSON text stops being JSON: the index of the first character that cannot continue it (its length when the
 * text ends too early), or -1 when it is JSON. Iterative, so deep nesting cannot overflow the stack.
 * @param {string} text
 */
export function jsonErrorIndex(text) {
  /** @type {string[]} */
  const open = [];
  let i = 0;
  /** @type {"value" | "value-or-end" | "key" | "key-or-end" | "colon" | "after"} */
  let state = "value";
  const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  /** Move past the string that starts at `i`; false when it is malformed (`i` then points at the fault). */
  const skipString = () => {
    for (i += 1; i < text.length; i += 1) {
      const c = text[i];
      if (c === '"') {
        i += 1;
        return true;
      }
      if (c < " ") return false;
      if (c === "\\") {
        i += 1;
        if (text[i] === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) return false;
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) return false;
      }
    }
    return false;
  };
  const close = () => {
    open.pop();
    i += 1;
    state = "after";
  };
  for (;;) {
    while (i < text.length && " \t\n\r".includes(text[i])) i += 1;
    if (i >= text.length) return state === "after" && open.length === 0 ? -1 : text.length;
    const c = text[i];
    if (state === "after") {
      const top = open.at(-1);
      if (top === undefined) return i; // something after the whole value
      if (c === (top === "{" ? "}" : "]")) close();
      else if (c !== ",") return i;
      else {
        i += 1;
        state = top === "{" ? "key" : "value";
      }
    } else if (state === "colon") {
      if (c !== ":") return i;
      i += 1;
      state = "value";
    } else if ((state === "key-or-end" && c === "}") || (state === "value-or-end" && c === "]")) close();
    else if (state === "key" || state === "key-or-end") {
      if (c !== '"' || !skipString()) return i;
      state = "colon";
    } else if (c === "{" || c === "[") {
      open.push(c);
      i += 1;
      state = c === "{" ? "key-or-end" : "value-or-end";
    } else if (c === '"') {
      if (!skipString()) return i;
      state = "after";
    } else {
      number.lastIndex = i;
      const token = ["true", "false", "null"].find((literal) => text.startsWith(literal, i)) ?? number.exec(text)?.[0];
      if (token === undefined) return i;
      i += token.length;
      state = "after";
    }
  }
}

/**
 * What JSON.parse said about `text`, with the line and column at which it stops being JSON.
 * @param {string} text
 * @param {Error} error thrown by JSON.parse(text)
 */
export function jsonErrorDetail(text, error) {
  // V8 quotes the text ("…" is not valid JSON) or names a position (in JSON at position 8 (line 1 column 9)).
  const reason = error.message.replace(/, .*is not valid JSON$/s, "").replace(/ (in JSON )?at position \d+.*$/s, "");
  const index = jsonErrorIndex(text);
  if (index < 0) return reason;
  const before = text.slice(0, index).split("\n");
  return `${reason} at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}
