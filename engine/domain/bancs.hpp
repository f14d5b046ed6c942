// BaNCS, the finance ledger, as the write-off reversal (source 004) calls it: show what a
// write-off took, reverse it (the arrears come back suspended), unsuspend them.
//
// Procedures reach BaNCS through one adapter, so tests and rehearsals can put a failing one
// in its place and exercise both answers. The adapter in use here, LocalBancs, is the
// ledger tables of this database: a call reads and changes them in the caller's
// transaction, so a procedure's call is journaled and replayed like any other, never made
// twice. A remote BaNCS would need an outbox instead (docs/architecture.md, "Durable execution").
//
// A refusal BaNCS gives (unknown journal, too large an amount) is an answer with ok = false
// and its message, for the procedure to branch on; a wrong id is an engine error.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "engine/domain/ledger.hpp"
#include "engine/domain/service_requests.hpp"

namespace casekit {

struct BancsAnswer {
  bool ok = false;
  std::string message;
  Pence amount = 0;           // display: left to reverse; reverse, unsuspend: the amount moved
  Pence rp_written_off = 0;   // display: written off arrears owed to receiving parents
  Pence cmg_written_off = 0;  // display: owed to the Secretary of State, and charges
  std::optional<std::string> reverse_journal;
  std::optional<std::string> reverse_date;
};

class Bancs {
 public:
  virtual ~Bancs() = default;
  virtual BancsAnswer display_written_off(Id account, const std::string& journal) = 0;
  virtual BancsAnswer reverse_write_off(Id account, const std::string& journal,
                                        const std::string& write_off_date, Pence amount) = 0;
  virtual BancsAnswer unsuspend(Id account, const std::string& journal) = 0;
};

class LocalBancs : public Bancs {
 public:
  LocalBancs(Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  BancsAnswer display_written_off(Id account, const std::string& journal) override;
  BancsAnswer reverse_write_off(Id account, const std::string& journal,
                                const std::string& write_off_date, Pence amount) override;
  BancsAnswer unsuspend(Id account, const std::string& journal) override;

 private:
  Database& db_;
  const Clock& clock_;
};

// Answers ERR with the given message for the named operations ("display_written_off",
// "reverse_write_off", "unsuspend") and passes the rest to the BaNCS it wraps.
class FailingBancs : public Bancs {
 public:
  FailingBancs(Bancs& real, std::map<std::string, std::string> failures)
      : real_(real), failures_(std::move(failures)) {}
  BancsAnswer display_written_off(Id account, const std::string& journal) override;
  BancsAnswer reverse_write_off(Id account, const std::string& journal,
                                const std::string& write_off_date, Pence amount) override;
  BancsAnswer unsuspend(Id account, const std::string& journal) override;

 private:
  std::optional<BancsAnswer> failure(const std::string& operation) const;
  Bancs& real_;
  std::map<std::string, std::string> failures_;
};

// The SR side of the interface, as the source describes the screens: each call's answer is
// written to the reversal SR (its "Suspend - write off liability" payment request row, its
// BaNCS status and message fields) before it is returned.
class BancsInterface {
 public:
  BancsInterface(Database& db, const Clock& clock, ServiceRequests& srs, Ledger& ledger);

  // Puts another adapter in place (tests); nullptr restores the local one.
  void use(Bancs* adapter) { adapter_ = adapter ? adapter : &local_; }

  // "Display written off arrears": keeps exactly one Suspend - write off liability row for
  // the SR, updated in place by every call; a failed call leaves its figures as they were.
  BancsAnswer display_written_off(Id sr, const std::string& journal);
  // "Reverse write off": sets the SR's bancs_status (ok or ERR) and bancs_message, and on
  // success reverse_write_off_date and reverse_journal_number.
  BancsAnswer reverse_write_off(Id sr, const std::string& journal,
                                const std::string& write_off_date, Pence amount);
  BancsAnswer unsuspend(Id sr, const std::string& journal);

 private:
  Id account_of(Id sr);
  // The SR's bancs_status (ok or ERR) and bancs_message, as the source's screens show them.
  void record_status(Id sr, const BancsAnswer& a);

  Database& db_;
  const Clock& clock_;
  ServiceRequests& srs_;
  Ledger& ledger_;
  LocalBancs local_;
  Bancs* adapter_;
};

}  // namespace casekit
