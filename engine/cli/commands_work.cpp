// casekit task list|show|complete | user add|passwd|disable|set|metrics-token|list | payment
// record|return|allocate|list
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "engine/cli/cli.hpp"

namespace casekit::cli {
namespace {

void add_task(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("task", "Work items: the human steps procedures wait on");
  group->require_subcommand(1);

  struct ListOptions {
    std::string inbox;
    bool all = false;
    bool json = false;
    std::int64_t after = 0;
    std::int64_t limit = 1000;
  };
  auto lo = std::make_shared<ListOptions>();
  auto* list = group->add_subcommand("list", "Open work items (with --all, closed ones too)");
  list->add_option("--inbox", lo->inbox, "only this inbox (procedures/inboxes.toml)");
  list->add_flag("--all", lo->all, "include completed and cancelled items");
  list->add_flag("--json", lo->json, "print JSON");
  list->add_option("--after", lo->after, "only items after this id (the next page)")
      ->check(CLI::NonNegativeNumber);
  list->add_option("--limit", lo->limit, "at most this many (default 1000)")
      ->check(CLI::Range(1, 100000));
  list->callback([&ctx, lo] {
    Engine& e = ctx.open();
    const auto items = e.work_items.list(
        lo->inbox.empty() ? std::nullopt : std::optional(lo->inbox), lo->all, lo->after, lo->limit);
    // A full page may have more after it: say how to read on, where a reader sees it.
    if (static_cast<std::int64_t>(items.size()) == lo->limit) {
      std::cerr << "casekit: " << lo->limit << " items shown; more may follow: --after "
                << items.back().id << "\n";
    }
    if (lo->json) {
      print_json_list(items);
      return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"id", "inbox", "kind", "title", "outcomes", "due", "instance", "status"}};
    for (const auto& w : items) {
      rows.push_back({std::to_string(w.id), w.spec.inbox, w.spec.kind, w.spec.title,
                      joined(w.spec.outcomes), or_dash(w.spec.due_date),
                      w.spec.instance_id ? std::to_string(*w.spec.instance_id) : "-", w.status});
    }
    print_table(rows);
  });

  struct ShowOptions {
    std::int64_t id = 0;
    bool json = false;
  };
  auto so = std::make_shared<ShowOptions>();
  auto* show = group->add_subcommand("show", "One work item: outcomes, fields, what is required");
  show->add_option("id", so->id, "work item id")->required();
  show->add_flag("--json", so->json, "print JSON");
  show->callback([&ctx, so] {
    const WorkItem w = ctx.open().work_items.get(so->id);
    if (so->json) {
      print_json(to_json(w));
      return;
    }
    std::cout << "work item " << w.id << ": " << w.spec.title << "\n"
              << "inbox:     " << w.spec.inbox << " (" << w.spec.kind << ")\n"
              << "outcomes:  " << joined(w.spec.outcomes) << "\n"
              << "fields:    " << (w.spec.fields.empty() ? "-" : joined(w.spec.fields)) << "\n";
    for (const auto& [outcome, names] : w.spec.required) {
      std::cout << "required:  " << joined(names)
                << (outcome == "*" ? "" : " (when " + outcome + ")") << "\n";
    }
    std::cout << "submitted: " << or_dash(w.spec.submitted_by) << "\n";
    if (!w.spec.not_by.empty()) std::cout << "not by:    " << joined(w.spec.not_by) << "\n";
    std::cout << "due:       " << or_dash(w.spec.due_date) << "\n"
              << "status:    " << w.status;
    if (w.outcome) std::cout << " (" << *w.outcome << " by " << or_dash(w.completed_by) << ")";
    std::cout << "\n";
  });

  struct CompleteOptions {
    std::int64_t id = 0;
    std::string outcome;
    std::vector<std::string> fields;
    std::string as;
    bool json = false;
  };
  auto co = std::make_shared<CompleteOptions>();
  auto* complete = group->add_subcommand(
      "complete", "Complete a work item; the procedure waiting on it resumes");
  complete->add_option("id", co->id, "work item id")->required();
  complete->add_option("--outcome", co->outcome, "one of the item's outcomes")->required();
  complete->add_option("--field", co->fields, "KEY=VALUE, repeatable");
  complete->add_option("--as", co->as, "the user completing it (casekit user add)")->required();
  complete->add_flag("--json", co->json, "print {item, instance} as JSON");
  complete->callback([&ctx, co] {
    ProcedureRuntime& runtime = ctx.runtime();
    const WorkItem w = [&] {
      try {
        return runtime.complete_task(co->id, co->outcome, key_values(co->fields, "--field"),
                                     co->as);
      } catch (const Error& e) {
        // A refused field: say how to give it on this command line.
        if (e.field().empty()) throw;
        throw Error(e.code(), std::string(e.what()) + " (--field " + e.field() + "=...)",
                    e.field());
      }
    }();
    const std::optional<Instance> resumed =
        w.spec.instance_id ? std::optional(runtime.store().get(*w.spec.instance_id)) : std::nullopt;
    if (co->json) {
      print_json({{"item", to_json(w)},
                  {"instance", resumed ? to_json(*resumed) : nlohmann::json(nullptr)}});
    } else {
      std::cout << "work item " << w.id << " completed: " << co->outcome << " by " << co->as
                << "\n";
      if (resumed) {
        std::cout << "instance " << resumed->id << " (" << resumed->procedure
                  << "): " << resumed->status
                  << (resumed->status == "waiting" ? " on " + describe_wait(*resumed) : "") << "\n";
      }
    }
    // The item is completed either way; the exit status says the procedure did not go on.
    if (resumed && resumed->status == "failed") {
      throw Error(ErrorCode::script, "instance " + std::to_string(resumed->id) +
                                         " failed: " + resumed->error.value_or("") +
                                         "; see `casekit incident list`");
    }
  });
}

// A password from stdin: one line with --password-stdin (for scripts), or typed twice at
// a terminal without echo. Nothing when stdin is not a terminal and the flag is not given.
std::optional<std::string> read_password(bool from_stdin) {
  if (from_stdin) {
    std::string line;
    if (!std::getline(std::cin, line)) throw Error(ErrorCode::bad_argument, "no password on stdin");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  if (!isatty(STDIN_FILENO)) return std::nullopt;
  const auto ask = [](const char* prompt) {
    std::cerr << prompt << std::flush;
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::string line;
    std::getline(std::cin, line);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
    return line;
  };
  const std::string first = ask("password: ");
  if (ask("again: ") != first) throw Error(ErrorCode::bad_argument, "the passwords differ");
  return first;
}

void add_user(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("user", "Users, their roles and their passwords");
  group->require_subcommand(1);
  struct AddOptions {
    std::string name;
    std::string role;
    std::optional<std::string> team;
    bool password_stdin = false;
  };
  auto ao = std::make_shared<AddOptions>();
  auto* add = group->add_subcommand("add", "Add a user (asks for a password at a terminal)");
  add->add_option("name", ao->name, "user name (no spaces)")->required();
  add->add_option("--role", ao->role,
                  "caseworker, team_leader, senior_manager, operator or policy_author")
      ->required();
  add->add_option("--team", ao->team, "the team whose inboxes they share");
  add->add_flag("--password-stdin", ao->password_stdin, "read the password from stdin");
  add->callback([&ctx, ao] {
    const auto password = read_password(ao->password_stdin);
    Engine& e = ctx.open();
    Transaction tx(e.db);
    const User u = e.users.add(ao->name, ao->role, ao->team);
    if (password) e.accounts.set_password(u.name, *password);
    tx.commit();
    std::cout << "user " << u.name << " (" << u.role << (u.team ? ", team " + *u.team : "")
              << ") added" << (password ? "" : "; no password yet (casekit user passwd)") << "\n";
  });

  struct NameOptions {
    std::string name;
    bool password_stdin = false;
  };
  auto po = std::make_shared<NameOptions>();
  auto* passwd = group->add_subcommand("passwd", "Set a user's password; their sessions end");
  passwd->add_option("name", po->name, "user name")->required();
  passwd->add_flag("--password-stdin", po->password_stdin, "read the password from stdin");
  passwd->callback([&ctx, po] {
    const auto password = read_password(po->password_stdin);
    if (!password) {
      throw Error(ErrorCode::bad_argument,
                  "give the password on a terminal or with --password-stdin");
    }
    Engine& e = ctx.open();
    Transaction tx(e.db);
    e.accounts.set_password(po->name, *password);
    tx.commit();
    std::cout << "password set for " << po->name << "\n";
  });

  auto dname = std::make_shared<std::string>();
  auto* disable =
      group->add_subcommand("disable", "Stop a user logging in or acting; their sessions end");
  disable->add_option("name", *dname, "user name")->required();
  disable->callback([&ctx, dname] {
    Engine& e = ctx.open();
    Transaction tx(e.db);
    e.accounts.disable(*dname);
    tx.commit();
    std::cout << "user " << *dname << " disabled\n";
  });

  struct SetOptions {
    std::string name;
    std::string role;
    std::string team;
    bool no_team = false;
  };
  auto so = std::make_shared<SetOptions>();
  auto* set = group->add_subcommand("set", "Change a user's role or team");
  set->add_option("name", so->name, "user name")->required();
  set->add_option("--role", so->role, "the new role");
  auto* team_option = set->add_option("--team", so->team, "the new team");
  set->add_flag("--no-team", so->no_team, "take them out of every team")->excludes(team_option);
  set->callback([&ctx, so] {
    Engine& e = ctx.open();
    UserChange change;
    if (!so->role.empty()) change.role = so->role;
    if (so->no_team) change.team = std::optional<std::string>();
    if (!so->team.empty()) change.team = so->team;
    Transaction tx(e.db);
    const User now = e.users.update(so->name, change);
    tx.commit();
    std::cout << "user " << now.name << ": " << now.role
              << (now.team ? ", team " + *now.team : ", no team") << "\n";
  });

  auto revoke = std::make_shared<bool>(false);
  auto* token = group->add_subcommand(
      "metrics-token",
      "Make the token a metrics scraper sends to GET /metrics (replaces the last)");
  token->add_flag("--revoke", *revoke, "leave no metrics token");
  token->callback([&ctx, revoke] {
    Engine& e = ctx.open();
    Transaction tx(e.db);
    if (*revoke) {
      e.accounts.revoke_metrics_token();
      tx.commit();
      std::cout << "metrics token revoked\n";
      return;
    }
    const std::string made = e.accounts.new_metrics_token();
    tx.commit();
    // Shown once: only its hash is kept.
    std::cout << made << "\n";
  });

  auto json = std::make_shared<bool>(false);
  auto* list = group->add_subcommand("list", "Users by name");
  list->add_flag("--json", *json, "print JSON");
  list->callback([&ctx, json] {
    const auto users = ctx.open().users.list();
    if (*json) {
      print_json_list(users, [](const auto& u) {
        return nlohmann::json{
            {"id", u.id},
            {"name", u.name},
            {"role", u.role},
            {"team", u.team ? nlohmann::json(*u.team) : nlohmann::json()},
            {"disabled_at", u.disabled_at ? nlohmann::json(*u.disabled_at) : nlohmann::json()}};
      });
      return;
    }
    std::vector<std::vector<std::string>> rows = {{"name", "role", "team", "disabled"}};
    for (const auto& u : users) {
      rows.push_back({u.name, u.role, or_dash(u.team), or_dash(u.disabled_at)});
    }
    print_table(rows);
  });
}

void add_payment_record(CLI::App& group, Context& ctx) {
  struct Options {
    std::int64_t account = 0;
    std::int64_t amount = 0;
    std::string date;
  };
  auto o = std::make_shared<Options>();
  auto* record = group.add_subcommand(
      "record",
      "Record a payment and allocate it to the account's dues; procedures waiting for one on "
      "the account resume");
  record->add_option("--account", o->account, "ledger account id")->required();
  record->add_option("--amount", o->amount, "integer pence")->required();
  record->add_option("--date", o->date, "date received, YYYY-MM-DD")->required();
  record->callback([&ctx, o] {
    ProcedureRuntime& runtime = ctx.runtime();
    const auto before = runtime.stats().activations;
    const Id id = runtime.record_payment(o->account, o->amount, o->date);
    const Payment p = ctx.engine->ledger.payment(id);
    std::cout << "payment " << id << " recorded: " << money::format(o->amount) << " to account "
              << o->account << ", " << money::format(p.allocated) << " allocated to dues ("
              << runtime.stats().activations - before << " instance(s) resumed)\n";
  });
}

void add_payment_return(CLI::App& group, Context& ctx) {
  struct Options {
    std::int64_t payment = 0;
    std::string date;
    std::string reason;
  };
  auto o = std::make_shared<Options>();
  auto* ret = group.add_subcommand(
      "return",
      "Mark a payment returned to the payer (a recalled DD, a bounced cheque): what "
      "it paid is owed again");
  ret->add_option("--payment", o->payment, "payment id")->required();
  ret->add_option("--date", o->date, "date it came back, YYYY-MM-DD")->required();
  ret->add_option("--reason", o->reason, "why, e.g. \"DD recalled (ARUDD 1)\"")->required();
  ret->callback([&ctx, o] {
    Engine& e = ctx.open();
    Transaction tx(e.db);
    const Payment p = e.ledger.return_payment(o->payment, o->date, o->reason);
    tx.commit();
    std::cout << "payment " << p.id << " of " << money::format(p.amount) << " returned on "
              << *p.returned_on << "; its allocations are taken back\n";
  });
}

// Source 001 step 74: on a casegroup with the manual allocation flag, payments wait on the
// account until someone allocates them by hand.
void add_payment_allocate(CLI::App& group, Context& ctx) {
  struct Options {
    std::int64_t payment = 0;
    std::optional<std::int64_t> due;
    std::optional<std::int64_t> charge;
    std::int64_t amount = 0;
    std::string as;
  };
  auto o = std::make_shared<Options>();
  auto* allocate = group.add_subcommand(
      "allocate",
      "Allocate part of a payment to one due or charge by hand (for an account held for manual "
      "allocation, or any credit)");
  allocate->add_option("--payment", o->payment, "payment id")->required();
  auto* due = allocate->add_option("--due", o->due, "due id");
  auto* charge = allocate->add_option("--charge", o->charge, "charge id");
  due->excludes(charge);
  allocate->add_option("--amount", o->amount, "integer pence")->required();
  allocate->add_option("--as", o->as, "who allocates it (casekit user add)")->required();
  allocate->callback([&ctx, o] {
    Engine& e = ctx.open();
    const User by = e.users.require(o->as);
    ActorScope actor(e.db, "user:" + by.name);
    Transaction tx(e.db);
    e.ledger.allocate_by_hand(o->payment, o->due, o->charge, o->amount, by);
    tx.commit();
    std::cout << money::format(o->amount) << " of payment " << o->payment << " allocated to "
              << (o->due ? "due " + std::to_string(*o->due)
                         : "charge " + std::to_string(o->charge.value_or(0)))
              << " by " << o->as << "\n";
  });
}

void add_payment_list(CLI::App& group, Context& ctx) {
  struct Options {
    std::int64_t account = 0;
    std::optional<std::string> since;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* list = group.add_subcommand(
      "list", "List an account's payments, what each has paid of its dues, and its credit");
  list->add_option("--account", o->account, "ledger account id")->required();
  list->add_option("--since", o->since, "only payments received on or after, YYYY-MM-DD");
  list->add_flag("--json", o->json, "print JSON");
  list->callback([&ctx, o] {
    Engine& e = ctx.open();
    e.ledger.account(o->account);
    const auto payments = e.ledger.payments(o->account, o->since);
    const Pence credit = e.ledger.credit(o->account);
    if (o->json) {
      nlohmann::json out = {{"account_id", o->account}, {"credit", credit}};
      out["payments"] = nlohmann::json::array();
      for (const Payment& p : payments) out["payments"].push_back(to_json(p));
      print_json(out);
      return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"id", "received", "amount", "allocated", "method", "returned"}};
    for (const Payment& p : payments) {
      rows.push_back(
          {std::to_string(p.id), p.received_on, money::format(p.amount), money::format(p.allocated),
           or_dash(p.method),
           p.returned_on ? *p.returned_on + " (" + p.return_reason.value_or("") + ")" : "-"});
    }
    if (payments.empty()) {
      std::cout << "no payments on account " << o->account << "\n";
    } else {
      print_table(rows);
    }
    std::cout << "credit held: " << money::format(credit) << "\n";
  });
}

void add_payment(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("payment", "The payments ledger");
  group->require_subcommand(1);
  add_payment_record(*group, ctx);
  add_payment_return(*group, ctx);
  add_payment_allocate(*group, ctx);
  add_payment_list(*group, ctx);
}

}  // namespace

void add_work_commands(CLI::App& app, Context& ctx) {
  add_task(app, ctx);
  add_user(app, ctx);
  add_payment(app, ctx);
}

}  // namespace casekit::cli
