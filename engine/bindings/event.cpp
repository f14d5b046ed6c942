// The `event` module: a procedure waits for something to happen in the domain (a payment
// to an account, a letter leaving the queue, an SR closing). The engine resumes it when the event
// is recorded (engine/durable/runtime.cpp).
#include "engine/bindings/history.hpp"
#include "engine/bindings/lua_json.hpp"
#include "engine/bindings/modules.hpp"

namespace casekit::lua {
namespace {

constexpr Key kEventAwaitKeys[] = {{"kind", "string"},
                                   {"account", "Account or id"},
                                   {"letter", "Letter or id"},
                                   {"sr", "SR or id"},
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
  } else {
    a.fail_field(1, "kind", "\"payment\", \"letter\" or \"sr\" expected");
  }
  if (auto days = a.opt_field_integer(1, "timeout_days")) {
    w.wake_at = days_from_now(a, 1, "timeout_days", *days);
  }
  return w;
}

const Function kEventFunctions[] = {
    {"await", wait_entry<w_await>, "event.await{} -> {kind=, payment=, letter=, sr=, timeout=}",
     "With `kind=\"payment\"`, waits for the next payment recorded to `account` (an Account or "
     "its id) and returns `{kind=\"payment\", payment={id=, amount=, date=}}`. With "
     "`kind=\"letter\"`, waits until `letter` (a Letter or its id) leaves the queue, fulfilled "
     "or failed, and returns `{kind=\"letter\", letter={id=, status=}}`, at once if it already "
     "has. With `kind=\"sr\"`, waits until `sr` (an SR or its id) is closed and returns "
     "`{kind=\"sr\", sr={id=, status=, sub_status=, resolution_code=}}`, at once if it "
     "already is. After `timeout_days` without the event, `{kind=\"timeout\", timeout=true}`.",
     Replay::record, kEventAwaitKeys},
};

}  // namespace

const Module kEventModule{
    "event", "Waiting for something to happen in the domain.", kEventFunctions, {}};

}  // namespace casekit::lua
