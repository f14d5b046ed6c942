// The one boundary every binding call crosses: the Host it runs for, C++ exceptions turned
// into Lua errors outside any catch block, and, in a procedure instance, the journal that
// records each call live and answers it on replay.
#include "bindings/journal.hpp"
#include "bindings/lua_json.hpp"
#include "bindings/support.hpp"

namespace casekit::lua {

void set_host(lua_State* L, Host* h) {
  *static_cast<Host**>(lua_getextraspace(L)) = h;
}

Host& host(lua_State* L) {
  Host* h = *static_cast<Host**>(lua_getextraspace(L));
  if (!h) throw Error(ErrorCode::internal, "binding called outside an engine sandbox");
  return *h;
}

namespace {

// A binding's outcome: its result count, or the error to raise once the C++ exception is
// finished with.
struct Outcome {
  int results = 0;
  std::optional<std::pair<std::string, std::string>> error;  // code name, message
};

template <typename F>
Outcome guarded(lua_State* L, F&& run) {
  try {
    return {run(), std::nullopt};
  } catch (const ArgError& e) {
    return {0, std::pair{std::string(code_name(e.code())), std::string(e.what())}};
  } catch (const Error& e) {
    return {0, std::pair{std::string(code_name(e.code())), qualified_name(L) + ": " + e.what()}};
  } catch (const std::exception& e) {
    return {0, std::pair{std::string(code_name(ErrorCode::internal)),
                         qualified_name(L) + ": " + e.what()}};
  }
}

// Raised outside any catch block, so the C++ exception is finished with before Lua unwinds
// (and so this is correct for a longjmp build of Lua too).
int raise(lua_State* L, const std::pair<std::string, std::string>& error) {
  push_error(L, error.first.c_str(), error.second);
  return lua_error(L);
}

Replay replay_mode(lua_State* L) {
  // Properties have no declaration, but for the fixed ones: they read the store and are
  // recorded.
  const Function* f = declaration_of(L);
  return f ? f->replay : Replay::record;
}

Journal* journal_of(lua_State* L) {
  Host* h = *static_cast<Host**>(lua_getextraspace(L));
  return h ? h->journal : nullptr;
}

int raise_halted(lua_State* L, const Journal& journal) {
  return raise(L, {code_name(ErrorCode::script), journal.halt_message()});
}

// Pushes a recorded result (an array of values) or raises the recorded error.
int push_recorded(lua_State* L, const std::string& result) {
  if (result.starts_with('{')) {
    push_json_text(L, result);  // an error table
    return lua_error(L);
  }
  return push_json_values(L, result);
}

// What identifies a call in the journal: the function, its arguments (as JSON) and the
// script line it was made from.
struct Call {
  std::string name;
  std::string args;
  std::string line;
};

Outcome describe(lua_State* L, Call& call) {
  return guarded(L, [&] {
    call.name = qualified_name(L);
    call.args = values_to_text(L, 1);  // throws for a value that cannot be recorded
    call.line = script_line(L);
    if (call.line.empty()) call.line.assign(1, '?');
    return 0;
  });
}

// What a live call changes, the audit says was done by this line of the procedure and this
// call. Scoped inside guarded(), so that it has ended before any Lua error is raised.
WhyScope procedure_line(lua_State* L, const Call& call) {
  return WhyScope(host(L).engine.db, call.line + " " + call.name);
}

// Where a call stands against the journal: replayed (its recorded twin), halted (a
// divergence, or the end of a verify-only replay), or neither: run it live.
struct Step {
  const Command* recorded = nullptr;
  bool halted = false;
};

Step step_of(Journal& journal, const Call& call) {
  if (journal.replaying()) {
    const Command* recorded = journal.match(call.name, call.args, call.line);
    return {recorded, recorded == nullptr};
  }
  if (journal.verify_only()) {
    journal.stop_at_end();
    return {nullptr, true};
  }
  return {};
}

int journaled_call(lua_State* L, Journal& journal, int (*impl)(Args&)) {
  if (journal.halted()) return raise_halted(L, journal);
  Call call;
  if (const auto error = describe(L, call).error) return raise(L, *error);
  const Step step = step_of(journal, call);
  if (step.halted) return raise_halted(L, journal);
  if (step.recorded) return push_recorded(L, step.recorded->result.value_or("[]"));
  Outcome out = guarded(L, [&] {
    const WhyScope why = procedure_line(L, call);
    Args a(L);
    return impl(a);
  });
  if (out.error) {
    const nlohmann::json e = {
        {"$error", {{"code", out.error->first}, {"message", out.error->second}}}};
    journal.record(std::move(call.name), std::move(call.args), dump(e), std::move(call.line));
    return raise(L, *out.error);
  }
  Outcome recorded = guarded(L, [&] {
    journal.record(std::move(call.name), std::move(call.args),
                   values_to_text(L, lua_gettop(L) - out.results + 1), std::move(call.line));
    return 0;
  });
  if (recorded.error) return raise(L, *recorded.error);
  return out.results;
}

}  // namespace

int call_binding(lua_State* L, int (*impl)(Args&)) {
  const Replay mode = replay_mode(L);
  if (Journal* journal = journal_of(L)) {
    switch (mode) {
      case Replay::record:
        return journaled_call(L, *journal, impl);
      case Replay::skip:
        if (journal->replaying()) return 0;
        break;
      case Replay::fixed:
        if (journal->records_fixed()) return journaled_call(L, *journal, impl);
        break;
      case Replay::pure:
        break;
    }
  }
  Outcome out = guarded(L, [&] {
    // An operator script's changes, too, are audited as made by its line and call (a
    // procedure's are, in journaled_call); a pure function changes nothing.
    std::optional<WhyScope> why;
    if (mode == Replay::record)
      why.emplace(host(L).engine.db, script_line(L) + " " + qualified_name(L));
    Args a(L);
    return impl(a);
  });
  if (out.error) return raise(L, *out.error);
  return out.results;
}

int call_wait(lua_State* L, PendingWait (*impl)(Args&)) {
  Journal* journal = journal_of(L);
  if (!journal) {
    return raise(L, {code_name(ErrorCode::invalid), qualified_name(L) +
                                                        ": only a procedure instance can wait "
                                                        "(this script is not running as one)"});
  }
  if (journal->halted()) return raise_halted(L, *journal);
  Call call;
  if (const auto error = describe(L, call).error) return raise(L, *error);
  const Step step = step_of(*journal, call);
  if (step.halted) return raise_halted(L, *journal);
  if (step.recorded) {
    if (step.recorded->result) return push_recorded(L, *step.recorded->result);
    // Still pending: the instance is waiting here, exactly as a warm one would be.
    return lua_yield(L, 0);
  }
  PendingWait wait;
  Outcome out = guarded(L, [&] {
    const WhyScope why = procedure_line(L, call);
    Args a(L);
    wait = impl(a);
    return 0;
  });
  if (out.error) return raise(L, *out.error);
  if (wait.ready) {
    // Recorded as an ordinary call: a replay returns the same result without waiting.
    journal->record(std::move(call.name), std::move(call.args), *wait.ready, std::move(call.line));
    return push_recorded(L, *wait.ready);
  }
  journal->record(std::move(call.name), std::move(call.args), std::nullopt, std::move(call.line));
  wait.seq = journal->history().back().seq;
  journal->pending = std::move(wait);
  return lua_yield(L, 0);
}

}  // namespace casekit::lua
