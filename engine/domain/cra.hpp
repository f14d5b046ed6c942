// The credit reference agency (CRA), as arrears negotiation (source 000) searches it: "Check
// the CRA details tab at contact level, this will provide credit information that will help
// with debt negotiation ... select the Search CRA button". The source also says the search
// needs a 'Confirmed Permanent Residential' address for the paying parent: without one it
// gives an error message and no financial data.
//
// As with CIS (cis.hpp), procedures reach the CRA through one adapter, so that tests and
// rehearsals can put a failing one in its place. The adapter in use here, LocalCra, holds no
// credit data of its own: it checks what the agency would check (a client, at a confirmed
// address) and says what it searched. A live agency's adapter returns its report in the same
// answer.
//
// A refusal is an answer with ok = false and its message, for the procedure to branch on; a
// wrong id is an engine error.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "engine/domain/casegroups.hpp"

namespace casekit {

struct CraAnswer {
  bool ok = false;
  std::string message;  // the refusal, or what was searched and found
};

class Cra {
 public:
  virtual ~Cra() = default;
  // The client's credit information, searched at their confirmed residential address.
  virtual CraAnswer search(Id client) = 0;
};

class LocalCra : public Cra {
 public:
  explicit LocalCra(Casegroups& casegroups) : casegroups_(casegroups) {}
  CraAnswer search(Id client) override;

 private:
  Casegroups& casegroups_;
};

// Answers with ok = false and the given message for the named operation ("search").
class FailingCra : public Cra {
 public:
  FailingCra(Cra& real, std::map<std::string, std::string> failures)
      : real_(real), failures_(std::move(failures)) {}
  CraAnswer search(Id client) override;

 private:
  Cra& real_;
  std::map<std::string, std::string> failures_;
};

// What the engine holds: the local CRA, or the adapter a test put in its place.
class CraInterface {
 public:
  explicit CraInterface(Casegroups& casegroups)
      : casegroups_(casegroups), local_(casegroups), adapter_(&local_) {}

  // Puts another adapter in place (tests); nullptr restores the local one.
  void use(Cra* adapter) { adapter_ = adapter ? adapter : &local_; }

  CraAnswer search(Id client);

 private:
  Casegroups& casegroups_;
  LocalCra local_;
  Cra* adapter_;
};

}  // namespace casekit
