#include "engine/http/password_pool.hpp"

#include <sodium.h>

#include <boost/asio/post.hpp>

namespace casekit::http {

PasswordPool::PasswordPool(boost::asio::io_context& loop, std::size_t threads,
                           std::size_t max_in_flight)
    : loop_(loop), pool_(threads), max_in_flight_(max_in_flight) {}

PasswordPool::~PasswordPool() {
  // Checks still queued run to the end; their answers are posted to a loop that may no
  // longer run, and are dropped with it.
  pool_.join();
}

bool PasswordPool::start(std::function<std::function<void()>()> job) {
  if (in_flight_ >= max_in_flight_) return false;
  ++in_flight_;
  ++started_;
  boost::asio::post(pool_, [this, job = std::move(job)] {
    boost::asio::post(loop_, [this, then = job()] {
      --in_flight_;
      then();
    });
  });
  return true;
}

bool PasswordPool::verify(std::string hash, std::string password,
                          std::function<void(PasswordCheck)> done) {
  return start([hash = std::move(hash), password = std::move(password),
                done = std::move(done)]() mutable -> std::function<void()> {
    PasswordCheck check = Accounts::check_password(hash, password);
    sodium_memzero(password.data(), password.size());
    return [check = std::move(check), done = std::move(done)] { done(check); };
  });
}

bool PasswordPool::hash(std::string password, std::function<void(std::string)> done) {
  return start(
      [password = std::move(password), done = std::move(done)]() mutable -> std::function<void()> {
        std::string hashed;
        try {
          hashed = Accounts::hash_password(password);
        } catch (...) {
          // Out of memory: the caller answers 500; the pool thread must not die of it.
        }
        sodium_memzero(password.data(), password.size());
        return [hashed = std::move(hashed), done = std::move(done)] { done(hashed); };
      });
}

}  // namespace casekit::http
