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

bool PasswordPool::verify(std::string hash, std::string password,
                          std::function<void(PasswordCheck)> done) {
  if (in_flight_ >= max_in_flight_) return false;
  ++in_flight_;
  ++started_;
  boost::asio::post(pool_, [this, hash = std::move(hash), password = std::move(password),
                            done = std::move(done)]() mutable {
    PasswordCheck check = Accounts::check_password(hash, password);
    sodium_memzero(password.data(), password.size());
    boost::asio::post(loop_, [this, check = std::move(check), done = std::move(done)] {
      --in_flight_;
      done(check);
    });
  });
  return true;
}

bool PasswordPool::hash(std::string password, std::function<void(std::string)> done) {
  if (in_flight_ >= max_in_flight_) return false;
  ++in_flight_;
  ++started_;
  boost::asio::post(
      pool_, [this, password = std::move(password), done = std::move(done)]() mutable {
        std::string hashed;
        try {
          hashed = Accounts::hash_password(password);
        } catch (...) {
          // Out of memory: the caller answers 500; the pool thread must not die of it.
        }
        sodium_memzero(password.data(), password.size());
        boost::asio::post(loop_, [this, hashed = std::move(hashed), done = std::move(done)] {
          --in_flight_;
          done(hashed);
        });
      });
  return true;
}

}  // namespace casekit::http
