// The `event` module: a procedure waits for something to happen in the domain (a payment
// to an account, a letter leaving the queue, an SR closing) or for a signal from outside
// (`casekit signal`: a new address from CIS, new employment details from HMRC, client contact). The
// engine resumes it when the event is recorded (engine/durable/runtime.cpp).
#include "bindings/history.hpp"
#include "bindings/lua_json.hpp"
#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

constexpr Key kEventAwaitKeys[] = {{"kind", "string"},         {"account", "Account or id"},
                                   {"letter", "Letter or id"}, {"sr", "SR or id"},
                                   {"name", "string"},         {"names", "list of strings"},
                                   {"timeout_days", "integer"}};

// What a wait on an SR returns; the same shape as the store's trigger writes
// (engine/store/schema.cpp, service_requests_wake_waiters).
nlohmann::json sr_outcome(const ServiceRequest& s) {
  const auto text = [](const std::optional<std::string>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {{"id", s.id},
          {"status", s.status},
          {"sub_status", text(s.sub_status)},
          {"resolution_code", text(s.resolution_code)}};
}

PendingWait w_await(Args& a) {
  a.table(1, "spec");
  const std::string kind = a.field_string(1, "kind");
  PendingWait w;
  w.kind = kind;
  Engine& engine = host(a.L).engine;
  if (kind == "payment") {
    w.ref = a.field_object(1, "account", kAccountType);
    engine.ledger.account(*w.ref);  // a wrong id fails now, not months later
  } else if (kind == "letter") {
    w.ref = a.field_object(1, "letter", kLetterType);
    const Letter letter = engine.letters.get(*w.ref);
    if (letter.status != "queued") {
      // Already sent (or failed): the answer is known, there is nothing to wait for.
      w.ready = dump(nlohmann::json::array(
          {{{"kind", "letter"}, {"letter", {{"id", letter.id}, {"status", letter.status}}}}}));
      return w;
    }
  } else if (kind == "sr") {
    w.ref = a.field_object(1, "sr", kSrType);
    const ServiceRequest s = engine.srs.get(*w.ref);
    if (!s.open()) {
      w.ready = dump(nlohmann::json::array({{{"kind", "sr"}, {"sr", sr_outcome(s)}}}));
      return w;
    }
  } else if (kind == "signal") {
    // The names are read back from this wait's history row when a signal is delivered
    // (ProcedureRuntime::signal); here they are only checked.
    std::vector<std::string> names = a.field_string_list(1, "names");
    if (auto name = a.opt_field_string(1, "name")) names.push_back(*name);
    if (names.empty()) a.fail_field(1, "name", "a signal name (or names) expected");
    for (const auto& n : names) {
      if (!is_signal_name(n)) {
        a.fail_field(1, "name", "'" + n + "' is not a signal name (a-z, 0-9 and _)");
      }
    }
  } else {
    a.fail_field(1, "kind", "\"payment\", \"letter\", \"sr\" or \"signal\" expected");
  }
  if (auto days = a.opt_field_integer(1, "timeout_days")) {
    w.wake_at = days_from_now(a, 1, "timeout_days", *days);
  }
  return w;
}

const Function kEventFunctions[] = {
    {"await", wait_entry<w_await>,
     "event.await{} -> {kind=, payment=, letter=, sr=, signal=, timeout=}",
     "With `kind=\"payment\"`, waits for the next payment recorded to `account` (an Account or "
     "its id) and returns `{kind=\"payment\", payment={id=, amount=, date=}}`. With "
     "`kind=\"letter\"`, waits until `letter` (a Letter or its id) leaves the queue, fulfilled "
     "or failed, and returns `{kind=\"letter\", letter={id=, status=}}`, at once if it already "
     "has. With `kind=\"sr\"`, waits until `sr` (an SR or its id) is closed and returns "
     "`{kind=\"sr\", sr={id=, status=, sub_status=, resolution_code=}}`, at once if it "
     "already is. With `kind=\"signal\"`, waits for a signal called `name` (or any of "
     "`names`) sent to this instance or its casegroup (`casekit signal`), and returns "
     "`{kind=\"signal\", signal={name=, data=, by=, at=}}`. After `timeout_days` without the "
     "event, `{kind=\"timeout\", timeout=true}`.",
     Replay::record, kEventAwaitKeys},
};

}  // namespace

const Module kEventModule{
    "event", "Waiting for something to happen in the domain.", kEventFunctions, {}};

}  // namespace casekit::lua
