// casekit audit --casegroup ID: a casegroup's trail of changes, as a reader wants it.
#include <algorithm>
#include <iostream>

#include "engine/cli/cli.hpp"
#include "engine/core/json.hpp"
#include "engine/store/audit_chain.hpp"

namespace casekit::cli {
namespace {

// A value as a reader wants it on one line: a text of many lines (a letter's body) shows
// its first, and how many more there are.
std::string plain(const nlohmann::json& value) {
  if (!value.is_string()) return value.dump();
  const auto text = value.get<std::string>();
  const auto end = text.find('\n');
  if (end == std::string::npos) return text;
  const auto lines = std::count(text.begin(), text.end(), '\n') + (text.back() == '\n' ? 0 : 1);
  return text.substr(0, end) + " ... (" + std::to_string(lines) + " lines; --json shows them)";
}

std::string who(const nlohmann::json& w) {
  if (w.contains("user")) return "user " + w["user"].get<std::string>();
  if (w.contains("procedure")) {
    return "procedure " + w["procedure"].get<std::string>() + ", instance " +
           std::to_string(w["instance"].get<std::int64_t>());
  }
  return w.value("actor", "-");
}

// "+ casegroups 5  csa_ref=CSA-1 segment=Arrears", "~ service_requests 7  status: Open ->
// Closed", "- casegroup_flags 5  flag=deo_desire".
std::string change_line(const nlohmann::json& c) {
  const std::string action = c["action"];
  std::string line = std::string("  ") +
                     (action == "insert"   ? "+ "
                      : action == "update" ? "~ "
                                           : "- ") +
                     c["entity"].get<std::string>() + " " + plain(c["entity_id"]) + " ";
  if (action == "update") {
    const auto& before = c["before"];
    // Only what changed: the trail leaves out the key columns that name a row unchanged.
    for (const auto& [column, after] : c["after"].items()) {
      line += " " + column + ": " + (before.contains(column) ? plain(before[column]) : "null") +
              " -> " + plain(after);
    }
  } else {
    for (const auto& [column, value] : c[action == "insert" ? "after" : "before"].items()) {
      if (column == "id" && value == c["entity_id"]) continue;  // said already
      line += " " + column + "=" + plain(value);
    }
  }
  // Which step a step taken is, and which steps a plan named by number has (the trail
  // looks them up: tables keep the number).
  if (c.contains("step")) line += "  (" + plain(c["step"]) + ")";
  if (c.contains("steps")) {
    std::string names;
    for (const auto& name : c["steps"]) names += (names.empty() ? "" : " | ") + plain(name);
    line += "  (plan: " + names + ")";
  }
  return line;
}

// Exit 1 with the first set that fails, named on stderr (after the JSON, with --json); the
// last hash otherwise, to be kept somewhere the database's writers cannot reach.
void verify_audit_chain(Engine& e, bool json) {
  const AuditVerification v = verify_audit(e.db);
  const bool intact = v.problem.empty();
  if (json) {
    print_json({{"intact", intact},
                {"sets", v.sets},
                {"changes", v.changes},
                {"head", v.head},
                {"first_bad_set", or_null(v.bad_set)},
                {"problem", intact ? nlohmann::json(nullptr) : nlohmann::json(v.problem)}});
  }
  if (!intact) throw Error(ErrorCode::invalid, v.problem);
  if (json) return;
  std::cout << "audit intact: " << v.sets << " change sets, " << v.changes << " changes; last hash "
            << (v.head.empty() ? "-" : v.head) << "\n";
}

}  // namespace

void print_trail(const nlohmann::json& trail) {
  const auto& changes = trail["changes"];
  std::string heading;
  for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
    const auto& c = *it;
    const std::string this_heading = c["at"].get<std::string>() + "  " + who(c["who"]);
    if (this_heading != heading) {
      std::cout << this_heading << "\n";
      heading = this_heading;
    }
    std::cout << change_line(c) << "\n";
    if (!c["why"].is_null()) std::cout << "      why: " << c["why"].get<std::string>() << "\n";
  }
  if (changes.empty()) std::cout << "no changes\n";
}

void add_audit_commands(CLI::App& app, Context& ctx) {
  struct Options {
    std::int64_t casegroup = 0;
    int limit = 100;
    std::optional<std::int64_t> before;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* audit = app.add_subcommand(
      "audit", "Read the audit: a casegroup's trail of changes, or verify its hash chain");
  audit->require_subcommand(0, 1);
  auto* casegroup =
      audit->add_option("--casegroup", o->casegroup, "the casegroup whose trail to show");
  audit->add_option("--limit", o->limit, "the newest this many changes (1 to 1000)")
      ->check(CLI::Range(1, 1000));
  audit->add_option("--before", o->before, "only changes older than this change id (paging)");
  audit->add_flag("--json", o->json, "print JSON (as GET /api/v1/casegroups/{id}/audit)");
  auto* verify = audit->add_subcommand(
      "verify", "Check every change set against its hash, and print the last hash");
  auto verify_json = std::make_shared<bool>(false);
  verify->add_flag("--json", *verify_json, "print JSON");
  verify->callback([&ctx, verify_json] { verify_audit_chain(ctx.open(), *verify_json); });
  audit->callback([&ctx, o, audit, verify, casegroup] {
    if (audit->got_subcommand(verify)) return;
    if (casegroup->count() == 0) {
      throw CLI::ValidationError("audit", "give --casegroup ID, or verify");
    }
    Engine& e = ctx.open();
    const auto trail = e.reads.trail(o->casegroup, o->limit, o->before);
    if (o->json) {
      print_json(trail);
      return;
    }
    print_trail(trail);
    if (!trail["next_cursor"].is_null()) {
      std::cout.flush();  // the hint after the page, in a terminal too
      std::cerr << "older changes: casekit audit --casegroup " << o->casegroup << " --before "
                << trail["next_cursor"].get<std::string>() << "\n";
    }
  });
}

}  // namespace casekit::cli
