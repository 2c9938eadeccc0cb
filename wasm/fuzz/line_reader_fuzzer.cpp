// libFuzzer harness (wasm/fuzz/run.sh): LineReader over a memfd gives exactly the input's lines, each one longer
// than the limit (the first input byte, mod 40) as too_long and empty.
#include <cstdint>
#include <cstdlib>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>
#include "line_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    size_t max_line = data[0] % 40;
    std::string input(reinterpret_cast<const char*>(data + 1), size - 1);
    int fd = memfd_create("in", 0);
    if (write(fd, input.data(), input.size()) != ssize_t(input.size())) std::abort();
    lseek(fd, 0, SEEK_SET);
    std::vector<std::string> expected;
    size_t at = 0;
    while (at < input.size()) {
        size_t nl = input.find('\n', at);
        expected.push_back(input.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
        at = nl == std::string::npos ? input.size() : nl + 1;
    }
    mcp::LineReader reader(fd, max_line);
    std::string line;
    size_t i = 0;
    mcp::LineReader::Status status;
    while ((status = reader.next(line)) != mcp::LineReader::Status::end) {
        if (i >= expected.size()) std::abort();
        if (status == mcp::LineReader::Status::too_long) {
            if (expected[i].size() <= max_line || !line.empty()) std::abort();
        } else if (line != expected[i] || line.size() > max_line) {
            std::abort();
        }
        ++i;
    }
    if (i != expected.size()) std::abort();
    close(fd);
    return 0;
}
