// casekit casegroup show | list
#include <iostream>

#include "engine/cli/cli.hpp"
#include "engine/core/error.hpp"
#include "engine/core/json.hpp"

namespace casekit::cli {
namespace {

std::string describe_client(const Client& c) {
  std::string s = c.name;
  if (c.nino) s += " (" + *c.nino + ")";
  if (c.address) {
    s += ", " + c.address->line1;
    if (c.address->postcode) s += ", " + *c.address->postcode;
    s += " [" + c.address->status + "]";
  }
  return s;
}

// Owed, paid and outstanding per category, then each due: what a caseworker checks first.
void print_money(Engine& e, const Casegroup& g) {
  const auto summary = e.ledger.money_summary(g.id);
  std::cout << "Money\n";
  if (summary.empty()) {
    std::cout << "  nothing owed\n";
  } else {
    std::vector<std::vector<std::string>> rows = {
        {"  owed to", "owed", "paid", "written off", "outstanding"}};
    MoneyCategory total{"  total"};
    for (const auto& m : summary) {
      rows.push_back({"  " + m.category, money::format(m.owed), money::format(m.paid),
                      money::format(m.written_off), money::format(m.outstanding)});
      total.owed = money::add(total.owed, m.owed);
      total.paid = money::add(total.paid, m.paid);
      total.written_off = money::add(total.written_off, m.written_off);
      total.outstanding = money::add(total.outstanding, m.outstanding);
    }
    rows.push_back({total.category, money::format(total.owed), money::format(total.paid),
                    money::format(total.written_off), money::format(total.outstanding)});
    print_table(rows);
  }
  const auto dues = e.ledger.dues(g.id);
  if (dues.empty()) return;
  std::cout << "Dues\n";
  std::vector<std::vector<std::string>> rows = {
      {"  owed to", "state", "case", "due on", "amount", "paid", "outstanding"}};
  for (const Due& d : dues) {
    rows.push_back({"  " + d.owed_to, d.state, d.case_id ? std::to_string(*d.case_id) : "-",
                    d.due_on, money::format(d.amount), money::format(d.paid),
                    money::format(d.outstanding())});
  }
  print_table(rows);
  if (const auto a = e.ledger.account_of_client(g.paying_parent_id)) {
    const Pence credit = e.ledger.credit(a->id);
    if (credit) std::cout << "  credit held on the account: " << money::format(credit) << "\n";
  }
}

void print_casegroup(Engine& e, const Casegroup& g) {
  std::string flags;
  for (const auto& f : g.flags) flags += (flags.empty() ? "" : ", ") + f;
  std::cout << "Casegroup " << g.id << (g.csa_ref ? "  " + *g.csa_ref : "") << "\n";
  print_table({{"  segment", g.segment},
               {"  service type", g.service_type},
               {"  region", g.region},
               {"  arrears only", g.arrears_only ? "yes" : "no"},
               {"  review date", or_dash(g.review_date)},
               {"  flags", flags.empty() ? "-" : flags},
               {"  paying parent", describe_client(e.casegroups.client(g.paying_parent_id))}});
  if (const auto a = e.ledger.account_of_client(g.paying_parent_id)) {
    std::cout << "  account        " << a->bancs_number << ", method of payment " << or_dash(a->mop)
              << (a->mop_status ? " (" + *a->mop_status + ")" : "") << "\n";
  }
  std::cout << "Cases\n";
  for (const Case& c : e.casegroups.cases(g.id)) {
    std::cout << "  case " << c.id << "  receiving parent "
              << describe_client(e.casegroups.client(c.receiving_parent_id)) << "\n";
  }
  print_money(e, g);
  if (const auto s = e.ledger.current_schedule(g.id)) {
    std::cout << "Schedule v" << s->version << ": " << money::format(s->amount_per_period) << " "
              << s->frequency << " x " << s->periods << " from " << s->first_collection_date
              << (s->lump_sum ? ", lump sum " + money::format(s->lump_sum) : "") << "\n";
  }
  SrFilter f;
  f.casegroup_id = g.id;
  f.limit = 1000;
  const auto srs = e.srs.list(f);
  std::cout << "Service requests\n";
  if (srs.empty()) std::cout << "  none\n";
  for (const auto& r : srs) {
    std::cout << "  SR " << r.id << "  " << r.sub_area << "  " << r.status
              << (r.sub_status ? " / " + *r.sub_status : "") << "\n";
  }
}

}  // namespace

void add_casegroup_commands(CLI::App& app, Context& ctx) {
  auto* group = app.add_subcommand("casegroup", "Look at casegroups");
  group->require_subcommand(1);

  struct ShowOptions {
    std::optional<std::int64_t> id;
    std::string csa_ref;
    bool json = false;
  };
  auto show_opts = std::make_shared<ShowOptions>();
  auto* show = group->add_subcommand("show", "Show one casegroup: cases, dues, schedule, SRs");
  show->add_option("id", show_opts->id, "casegroup id");
  show->add_option("--csa-ref", show_opts->csa_ref, "find it by CSA reference instead");
  show->add_flag("--json", show_opts->json, "print JSON");
  show->callback([&ctx, show_opts] {
    if (show_opts->id.has_value() == !show_opts->csa_ref.empty()) {
      throw CLI::ValidationError("casegroup show", "give either an ID or --csa-ref");
    }
    Engine& e = ctx.open();
    Id id = 0;
    if (show_opts->id) {
      id = *show_opts->id;
    } else {
      const auto found = e.casegroups.find_by_csa_ref(show_opts->csa_ref);
      if (!found) {
        throw Error(ErrorCode::not_found, "no casegroup with CSA reference " + show_opts->csa_ref);
      }
      id = *found;
    }
    const Casegroup g = e.casegroups.get(id);
    if (show_opts->json) {
      print_json(casegroup_json(e.casegroups, e.ledger, e.srs, g));
    } else {
      print_casegroup(e, g);
    }
  });

  struct ListOptions {
    std::string segment;
    std::string flag;
    std::string csa_ref;
    std::string nino;
    std::string name;
    std::string review_due_by;
    std::int64_t after = 0;
    int limit = 100;
    bool json = false;
  };
  auto list_opts = std::make_shared<ListOptions>();
  auto* list = group->add_subcommand("list", "List casegroups in id order");
  list->add_option("--segment", list_opts->segment, "only this segment");
  list->add_option("--flag", list_opts->flag, "only casegroups with this flag set");
  list->add_option("--csa-ref", list_opts->csa_ref, "only the casegroup with this CSA reference");
  list->add_option("--nino", list_opts->nino, "only casegroups with a parent of this NINO");
  list->add_option("--name", list_opts->name,
                   "only casegroups with a parent whose name, or a word of it, starts so "
                   "(regardless of case and accents)");
  list->add_option("--review-due-by", list_opts->review_due_by,
                   "only casegroups with a review date on or before this date (YYYY-MM-DD)");
  list->add_option("--after", list_opts->after, "start after this id (paging)");
  list->add_option("--limit", list_opts->limit, "at most this many")->check(CLI::Range(1, 100000));
  list->add_flag("--json", list_opts->json, "print JSON");
  list->callback([&ctx, list_opts] {
    Engine& e = ctx.open();
    CasegroupFilter f;
    if (!list_opts->segment.empty()) f.segment = list_opts->segment;
    if (!list_opts->flag.empty()) f.flag = list_opts->flag;
    if (!list_opts->csa_ref.empty()) f.csa_ref = list_opts->csa_ref;
    if (!list_opts->nino.empty()) f.nino = list_opts->nino;
    if (!list_opts->name.empty()) f.name = list_opts->name;
    if (!list_opts->review_due_by.empty()) f.review_due_by = list_opts->review_due_by;
    f.after_id = list_opts->after;
    f.limit = list_opts->limit;
    const auto groups = e.casegroups.list(f);
    if (list_opts->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& g : groups) {
        const Pence balance = e.ledger.balance(g.id, std::nullopt, std::nullopt);
        out.push_back({{"id", g.id},
                       {"csa_ref", g.csa_ref ? nlohmann::json(*g.csa_ref) : nullptr},
                       {"segment", g.segment},
                       {"region", g.region},
                       {"flags", flags_json(g.flags)},
                       {"balance", balance}});
      }
      print_json(out);
      return;
    }
    std::vector<std::vector<std::string>> rows = {
        {"id", "csa ref", "segment", "region", "paying parent", "balance"}};
    for (const auto& g : groups) {
      rows.push_back({std::to_string(g.id), or_dash(g.csa_ref), g.segment, g.region,
                      e.casegroups.client(g.paying_parent_id).name,
                      money::format(e.ledger.balance(g.id, std::nullopt, std::nullopt))});
    }
    print_table(rows);
  });
}

}  // namespace casekit::cli
