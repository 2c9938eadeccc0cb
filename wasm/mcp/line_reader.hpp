// Reading a stream one line at a time without ever holding more of a line than a limit: a longer line is skipped
// up to its newline as it arrives and reported as too long, so a client cannot make the native server buffer it.
#pragma once

#include <cstddef>
#include <string>

namespace mcp {

class LineReader {
public:
    enum class Status { line, too_long, end };

    LineReader(int fd, size_t max_line) : fd_(fd), max_line_(max_line) {}

    // The next line (without its newline) into `line`; too_long when it had more than max_line bytes (then `line`
    // is empty and the line's bytes are already skipped); end when the stream has ended. A last line without a
    // newline still counts as a line.
    Status next(std::string& line);

private:
    bool fill();  // reads more into buffer_; false at the end of the stream

    int fd_;
    size_t max_line_;
    char buffer_[65536];
    size_t start_ = 0, end_ = 0;
};

}  // namespace mcp
