// CIS, the Customer Information System, as the phase-2 transition (source 002) calls it:
// verify a client and input CMS's interest flag on their CIS record (so that CIS tells CMS
// when their details change), and retrieve the paying parent's benefit details.
//
// As with BaNCS (bancs.hpp), procedures reach CIS through one adapter, so that tests and
// rehearsals can put a failing one in its place. The adapter in use here, LocalCis, answers
// from this database: the client's record is what CIS holds, and the interest flags it
// inputs are rows of cis_interests, written in the caller's transaction and so journaled and
// replayed like any other call.
//
// A refusal CIS gives (a client with no NINO to verify) is an answer with ok = false and its
// message, for the procedure to branch on; a wrong id is an engine error.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "engine/domain/casegroups.hpp"

namespace casekit {

struct CisAnswer {
  bool ok = false;
  std::string message;
  std::optional<std::string> benefit_status;  // benefit_details: the benefit in payment, if any
};

// The two parties a casegroup's clients are to CIS: the applicant (the receiving parent)
// and the other party (the paying parent).
inline constexpr const char* kCisRoles[] = {"applicant", "other_party"};

class Cis {
 public:
  virtual ~Cis() = default;
  // Verifies the client on CIS and inputs CMS's interest flag for this casegroup and role.
  virtual CisAnswer verify(Id client, Id casegroup, const std::string& role) = 0;
  virtual CisAnswer benefit_details(Id client) = 0;
};

class LocalCis : public Cis {
 public:
  LocalCis(Database& db, const Clock& clock, Casegroups& casegroups)
      : db_(db), clock_(clock), casegroups_(casegroups) {}
  CisAnswer verify(Id client, Id casegroup, const std::string& role) override;
  CisAnswer benefit_details(Id client) override;

 private:
  Database& db_;
  const Clock& clock_;
  Casegroups& casegroups_;
};

// Answers with ok = false and the given message for the named operations ("verify",
// "benefit_details") and passes the rest to the CIS it wraps.
class FailingCis : public Cis {
 public:
  FailingCis(Cis& real, std::map<std::string, std::string> failures)
      : real_(real), failures_(std::move(failures)) {}
  CisAnswer verify(Id client, Id casegroup, const std::string& role) override;
  CisAnswer benefit_details(Id client) override;

 private:
  std::optional<CisAnswer> failure(const std::string& operation) const;
  Cis& real_;
  std::map<std::string, std::string> failures_;
};

// What the engine holds: the local CIS, or the adapter a test put in its place.
class CisInterface {
 public:
  CisInterface(Database& db, const Clock& clock, Casegroups& casegroups)
      : casegroups_(casegroups), local_(db, clock, casegroups), adapter_(&local_) {}

  // Puts another adapter in place (tests); nullptr restores the local one.
  void use(Cis* adapter) { adapter_ = adapter ? adapter : &local_; }

  CisAnswer verify(Id client, Id casegroup, const std::string& role);
  CisAnswer benefit_details(Id client);

 private:
  Casegroups& casegroups_;
  LocalCis local_;
  Cis* adapter_;
};

}  // namespace casekit
