// See line_reader.hpp: lines from a file descriptor, each bounded before it is buffered.
#include "line_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace mcp {

bool LineReader::fill() {
    while (true) {
        ssize_t count = ::read(fd_, buffer_, sizeof(buffer_));
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) return false;
        start_ = 0;
        end_ = size_t(count);
        return true;
    }
}

LineReader::Status LineReader::next(std::string& line) {
    line.clear();
    bool started = false, too_long = false;
    while (true) {
        if (start_ == end_ && !fill()) {
            if (!started) return Status::end;
            return too_long ? Status::too_long : Status::line;
        }
        started = true;
        const char* from = buffer_ + start_;
        const char* newline = static_cast<const char*>(std::memchr(from, '\n', end_ - start_));
        size_t length = newline ? size_t(newline - from) : end_ - start_;
        if (!too_long && line.size() + length > max_line_) {
            too_long = true;
            std::string().swap(line);  // give back what the line held so far
        }
        if (!too_long) {
            // Grown through powers of two up to the limit itself, never past it to twice the limit (as growing by
            // doubling from std::string's first capacity would).
            if (line.size() + length > line.capacity()) {
                size_t capacity = sizeof(buffer_);
                while (capacity < line.size() + length) capacity *= 2;
                line.reserve(std::min(capacity, max_line_));
            }
            line.append(from, length);
        }
        start_ += length;
        if (newline) {
            ++start_;
            return too_long ? Status::too_long : Status::line;
        }
    }
}

}  // namespace mcp
