// The native driver: a stdio MCP server any host can launch. A reader thread takes lines from stdin so that a
// notifications/cancelled reaches a tool while it runs (or drops the request if it is still queued); requests
// are served one at a time, in order. Both ends are bounded (limits.hpp): a line longer than MAX_LINE_BYTES is
// skipped as it arrives and answered with an error in its turn, and while MAX_PENDING_LINES lines (or
// MAX_PENDING_BYTES) wait, the reader stops reading, so the client's writes block instead of the queue growing.
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unistd.h>

#include "driver.hpp"
#include "limits.hpp"
#include "line_reader.hpp"

namespace {

// A line waiting to be served; a line that was too long waits as a marker, so its error comes in its turn.
struct Pending {
    std::string line;
    bool too_long = false;
};

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    std::unique_ptr<mcp::Server> server;
    try {
        server = make_server(args);
    } catch (const UsageError& error) {
        std::fprintf(stderr, "%s: %s\n", argv[0], error.what());
        return 2;
    }
    std::mutex out_mutex;
    server->sink = [&](const std::string& line) {
        std::lock_guard<std::mutex> lock(out_mutex);
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fputc('\n', stdout);
        std::fflush(stdout);
    };

    std::mutex queue_mutex;
    std::condition_variable queue_changed;  // a line arrived, or the input ended
    std::condition_variable queue_has_room;
    std::deque<Pending> queue;
    size_t queued_bytes = 0;
    bool input_closed = false;
    std::optional<mcp::json> starting;  // the request taken off the queue, until handle_line has served it
    std::thread reader([&] {
        mcp::LineReader input(STDIN_FILENO, mcp::MAX_LINE_BYTES);
        Pending next;
        mcp::LineReader::Status status;
        while ((status = input.next(next.line)) != mcp::LineReader::Status::end) {
            next.too_long = status == mcp::LineReader::Status::too_long;
            std::unique_lock<std::mutex> lock(queue_mutex);
            if (!next.too_long) {
                if (auto id = mcp::Server::cancelled_request_id(next.line)) {
                    // Applied now: the request it names may be running, or still waiting in the queue.
                    if (!server->cancel(*id)) {
                        auto waiting = std::find_if(queue.begin(), queue.end(), [&](const Pending& queued) {
                            return !queued.too_long && mcp::Server::request_id_of(queued.line) == id;
                        });
                        if (waiting != queue.end()) {
                            queued_bytes -= waiting->line.size();
                            queue.erase(waiting);
                            queue_has_room.notify_one();
                        } else if (starting == id) {
                            server->cancel_before_start(*id);
                        }
                    }
                    continue;
                }
            }
            // Back-pressure: stdin is not read again until the line can be queued.
            queue_has_room.wait(lock, [&] {
                return queue.empty() || (queue.size() < mcp::MAX_PENDING_LINES &&
                                         queued_bytes + next.line.size() <= mcp::MAX_PENDING_BYTES);
            });
            queued_bytes += next.line.size();
            queue.push_back(std::move(next));
            next = Pending{};
            queue_changed.notify_one();
        }
        std::lock_guard<std::mutex> lock(queue_mutex);
        input_closed = true;
        queue_changed.notify_one();
    });

    while (true) {
        Pending next;
        {
            std::unique_lock<std::mutex> lock(queue_mutex);
            queue_changed.wait(lock, [&] { return !queue.empty() || input_closed; });
            if (queue.empty()) break;
            next = std::move(queue.front());
            queue.pop_front();
            queued_bytes -= next.line.size();
            queue_has_room.notify_one();
            if (!next.too_long) starting = mcp::Server::request_id_of(next.line);
        }
        if (next.too_long) server->refuse_long_line();
        else server->handle_line(next.line);
        std::lock_guard<std::mutex> lock(queue_mutex);
        if (starting) server->forget_cancel_before_start(*starting);
        starting.reset();
    }
    reader.join();
    return 0;
}
