// casekit audit --casegroup ID: a casegroup's trail of changes, as a reader wants it.
#include <algorithm>
#include <iostream>

#include "engine/cli/cli.hpp"

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
    for (const auto& [column, after] : c["after"].items()) {
      if (before.contains(column) && before[column] == after) continue;  // names the row
      line += " " + column + ": " + (before.contains(column) ? plain(before[column]) : "null") +
              " -> " + plain(after);
    }
  } else {
    for (const auto& [column, value] : c[action == "insert" ? "after" : "before"].items()) {
      if (column == "id" && value == c["entity_id"]) continue;  // said already
      line += " " + column + "=" + plain(value);
    }
  }
  return line;
}

// Oldest first, the changes one actor made at one instant under one heading.
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

}  // namespace

void add_audit_commands(CLI::App& app, Context& ctx) {
  struct Options {
    std::int64_t casegroup = 0;
    int limit = 100;
    std::optional<std::int64_t> before;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* audit = app.add_subcommand("audit", "Read the audit: a casegroup's trail of changes");
  audit->add_option("--casegroup", o->casegroup, "the casegroup whose trail to show")->required();
  audit->add_option("--limit", o->limit, "the newest this many changes (1 to 1000)")
      ->check(CLI::Range(1, 1000));
  audit->add_option("--before", o->before, "only changes older than this change id (paging)");
  audit->add_flag("--json", o->json, "print JSON (as GET /api/v1/casegroups/{id}/audit)");
  audit->callback([&ctx, o] {
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
