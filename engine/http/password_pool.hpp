// Checking a password costs about 60 ms and 64 MiB (Argon2id), far too long to spend on the
// loop that also fires timers and answers every other request. The pool checks them on a
// few threads of its own and hands each answer back to the loop. It takes at most
// `max_in_flight` at once (queued or running), so a flood of logins can neither stall the
// loop nor take memory without bound: beyond the cap, verify() says no at once and the
// route answers 429.
#pragma once

#include <utility>  // before Asio: its awaitable.hpp uses std::exchange without including it

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstddef>
#include <functional>
#include <string>

#include "engine/domain/accounts.hpp"

namespace casekit::http {

class PasswordPool {
 public:
  PasswordPool(boost::asio::io_context& loop, std::size_t threads, std::size_t max_in_flight);
  ~PasswordPool();
  PasswordPool(const PasswordPool&) = delete;
  PasswordPool& operator=(const PasswordPool&) = delete;

  // Called on the loop. Checks `password` against `hash` on the pool and then calls
  // `done(check)` on the loop; false, and nothing started, when the pool is full.
  bool verify(std::string hash, std::string password, std::function<void(PasswordCheck)> done);

  // Called on the loop. Hashes `password` (Accounts::hash_password) on the pool and then
  // calls `done(hash)` on the loop, an empty hash if hashing failed; false, and nothing
  // started, when the pool is full. Shares the cap with verify().
  bool hash(std::string password, std::function<void(std::string)> done);

  // On the loop: checks queued or running now, and every check started so far.
  std::size_t in_flight() const { return in_flight_; }
  std::size_t started() const { return started_; }

 private:
  // Runs `job` on the pool, then on the loop what it returns; false, and nothing started,
  // when the pool is full. The cap and the counts are kept here for verify() and hash() alike.
  bool start(std::function<std::function<void()>()> job);

  boost::asio::io_context& loop_;
  boost::asio::thread_pool pool_;
  std::size_t max_in_flight_;
  std::size_t in_flight_ = 0;  // the loop's alone: changed only there
  std::size_t started_ = 0;
};

}  // namespace casekit::http
