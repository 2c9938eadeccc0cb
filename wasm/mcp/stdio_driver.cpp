// The native driver: a stdio MCP server any host can launch. A reader thread takes lines from stdin so that a
// notifications/cancelled reaches a tool while it runs (or drops the request if it is still queued); requests
// are served one at a time, in order.
#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

#include "driver.hpp"

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
    std::condition_variable queue_changed;
    std::deque<std::string> queue;
    bool input_closed = false;
    std::optional<mcp::json> starting;  // the request taken off the queue, until handle_line has served it
    std::thread reader([&] {
        std::string line;
        while (std::getline(std::cin, line)) {
            std::lock_guard<std::mutex> lock(queue_mutex);
            if (auto id = mcp::Server::cancelled_request_id(line)) {
                // Applied now: the request it names may be running, or still waiting in the queue.
                if (!server->cancel(*id)) {
                    auto waiting = std::find_if(queue.begin(), queue.end(), [&](const std::string& queued) {
                        return mcp::Server::request_id_of(queued) == id;
                    });
                    if (waiting != queue.end()) queue.erase(waiting);
                    else if (starting == id) server->cancel_before_start(*id);
                }
                continue;
            }
            queue.push_back(std::move(line));
            queue_changed.notify_one();
        }
        std::lock_guard<std::mutex> lock(queue_mutex);
        input_closed = true;
        queue_changed.notify_one();
    });

    while (true) {
        std::string line;
        {
            std::unique_lock<std::mutex> lock(queue_mutex);
            queue_changed.wait(lock, [&] { return !queue.empty() || input_closed; });
            if (queue.empty()) break;
            line = std::move(queue.front());
            queue.pop_front();
            starting = mcp::Server::request_id_of(line);
        }
        server->handle_line(line);
        std::lock_guard<std::mutex> lock(queue_mutex);
        if (starting) server->forget_cancel_before_start(*starting);
        starting.reset();
    }
    reader.join();
    return 0;
}
