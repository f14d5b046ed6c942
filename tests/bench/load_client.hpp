// What the HTTP benchmarks share: a client with one kept-alive connection making blocking
// requests (so it measures what a person waits: from writing the request to reading the whole
// answer), and the latencies it collects.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "engine/store/database.hpp"

namespace casekit::bench {

using Stopwatch = std::chrono::steady_clock;
namespace bhttp = boost::beast::http;

struct Latencies {
  std::vector<double> ms;
  std::int64_t failures = 0;

  // A request that began at `since` and has just been answered, `ok` or not.
  void add(Stopwatch::time_point since, bool ok) {
    ms.push_back(std::chrono::duration<double, std::milli>(Stopwatch::now() - since).count());
    if (!ok) ++failures;
  }
  void merge(const Latencies& other) {
    ms.insert(ms.end(), other.ms.begin(), other.ms.end());
    failures += other.failures;
  }
  std::int64_t succeeded() const { return static_cast<std::int64_t>(ms.size()) - failures; }

  double percentile(double p) {
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    return ms[std::min(ms.size() - 1, static_cast<std::size_t>(p * ms.size()))];
  }
};

// One kept-alive connection, requests one at a time.
class LoadClient {
 public:
  LoadClient(unsigned short port, std::string bearer) : socket_(io_), bearer_(std::move(bearer)) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    socket_.set_option(boost::asio::ip::tcp::no_delay(true));
    // Connected and answered once before any clock starts: the figures are of requests on
    // open connections, not of connections being accepted.
    send(bhttp::verb::get, "/healthz", "");
  }

  // The status; the body in `body`.
  int send(bhttp::verb verb, const std::string& target, const std::string& payload,
           std::string* body = nullptr) {
    bhttp::request<bhttp::string_body> req{verb, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    if (!bearer_.empty()) req.set(bhttp::field::authorization, "Bearer " + bearer_);
    if (!payload.empty()) req.set(bhttp::field::content_type, "application/json");
    req.body() = payload;
    req.keep_alive(true);
    req.prepare_payload();
    bhttp::write(socket_, req);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(16 << 20);
    bhttp::read(socket_, buffer_, parser);
    if (body) *body = parser.get().body();
    return parser.get().result_int();
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
  std::string bearer_;
};

// One request a client makes: its method, target and body.
struct Job {
  bhttp::verb verb;
  std::string target;
  std::string body;
};

// Client c's token is tokens[c % tokens.size()]: `clients` of them.
inline std::vector<std::string> per_client(const std::vector<std::string>& tokens, int clients) {
  std::vector<std::string> out;
  for (int c = 0; c < clients; ++c) out.push_back(tokens[c % tokens.size()]);
  return out;
}

// Back to back: one client for each token, each a thread with its own connection; client c
// takes the next job of the queue jobs[c % jobs.size()] (shared with the other clients of that
// queue) as soon as it has its last answer, until the queue is done. Returns each request's
// latency and the requests not answered 200.
inline Latencies load(unsigned short port, const std::vector<std::string>& tokens,
                      const std::vector<std::vector<Job>>& jobs) {
  const int clients = static_cast<int>(tokens.size());
  std::vector<std::atomic<std::size_t>> next(jobs.size());
  std::vector<Latencies> per(clients);
  std::vector<std::thread> threads;
  std::barrier ready(clients);
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      const std::size_t queue = c % jobs.size();
      LoadClient client(port, tokens[c]);
      ready.arrive_and_wait();
      for (std::size_t i = next[queue]++; i < jobs[queue].size(); i = next[queue]++) {
        const Job& job = jobs[queue][i];
        const auto t0 = Stopwatch::now();
        per[c].add(t0, client.send(job.verb, job.target, job.body) == 200);
      }
    });
  }
  for (auto& t : threads) t.join();
  Latencies all;
  for (const auto& p : per) all.merge(p);
  return all;
}

// At a stated pace, as people work: one client for each token, each taking a turn once every
// `clients / rate` seconds (its turns spread evenly among the others'), for `seconds`. Turn k
// of client c is the requests turn(c, k) gives (called from the clients' threads), sent one
// after another. The first request's latency is counted from the instant its turn was due,
// so a server that falls behind is charged for the wait as well (no coordinated omission);
// the others' from when they were sent. Returns the latencies by position in the turn.
inline std::vector<Latencies> paced(unsigned short port, const std::vector<std::string>& tokens,
                                    double rate, double seconds,
                                    const std::function<std::vector<Job>(int, int)>& turn) {
  const int clients = static_cast<int>(tokens.size());
  std::vector<std::vector<Latencies>> per(clients);
  std::vector<std::thread> threads;
  Stopwatch::time_point start;
  std::barrier ready(clients, [&]() noexcept { start = Stopwatch::now(); });
  const auto period = std::chrono::duration<double>(clients / rate);
  const int turns = static_cast<int>(seconds * rate / clients);
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      LoadClient client(port, tokens[c]);
      ready.arrive_and_wait();
      for (int k = 0; k < turns; ++k) {
        const auto due = start + std::chrono::duration_cast<Stopwatch::duration>(
                                     period * (k + static_cast<double>(c) / clients));
        std::this_thread::sleep_until(due);
        const std::vector<Job> jobs = turn(c, k);
        if (per[c].size() < jobs.size()) per[c].resize(jobs.size());
        for (std::size_t j = 0; j < jobs.size(); ++j) {
          const auto t0 = j == 0 ? due : Stopwatch::now();
          per[c][j].add(t0, client.send(jobs[j].verb, jobs[j].target, jobs[j].body) == 200);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<Latencies> all;
  for (const auto& p : per) {
    if (all.size() < p.size()) all.resize(p.size());
    for (std::size_t j = 0; j < p.size(); ++j) all[j].merge(p[j]);
  }
  return all;
}

// While it lives, stderr goes to /dev/null: the server's access log writes a line there for
// each request, which would bury the figures (and writing it is part of what is measured).
class QuietStderr {
 public:
  QuietStderr() : saved_(::dup(2)) {
    std::fflush(stderr);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 2);
    ::close(null);
  }
  ~QuietStderr() {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
  }
  QuietStderr(const QuietStderr&) = delete;
  QuietStderr& operator=(const QuietStderr&) = delete;

 private:
  int saved_;
};

// A query string's value, percent-encoded.
inline std::string url_encode(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

inline std::int64_t count(Database& db, const std::string& sql) {
  auto st = db.prepare(sql);
  st.step();
  return st.integer(0);
}

}  // namespace casekit::bench
