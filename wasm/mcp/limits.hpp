// The bounds the C++ servers put on what a client sends them, in one place: the core and both drivers take them
// from here, and the tests read them from this file (tests/wasm/conftest.py, cpp_limit).
#pragma once

#include <cstddef>

namespace mcp {

// One JSON-RPC message, one line. Ten minutes of 16 kHz float32 WAV (transcribe's longest audio) is 38 MB, 51 MB
// as base64; a longer line is refused, and the native reader skips it without holding it.
constexpr size_t MAX_LINE_BYTES = 64u * 1024u * 1024u;

// How deeply arrays and objects may nest in one message. The envelope takes 3 levels (message, params,
// arguments) and no tool's arguments nest more than 2; a deeper message is refused before it is parsed, so no
// recursive walk of a parsed value (copying, dumping, destroying) can run out of stack.
constexpr int MAX_JSON_DEPTH = 64;

// Lines the native reader holds ahead of the one being served, and their bytes together (a single line is always
// taken when nothing waits). When the queue is full the reader stops reading stdin: the client's writes block
// (back-pressure) and no line is ever dropped.
constexpr size_t MAX_PENDING_LINES = 64;
constexpr size_t MAX_PENDING_BYTES = MAX_LINE_BYTES;

// How much of a client's value (a wrong argument, an unknown method's name) an error message quotes.
constexpr size_t MAX_QUOTED_BYTES = 100;

}  // namespace mcp
