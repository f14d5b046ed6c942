// Lua module `payment`: the paying parent's ledger account, dues, charges, payments and
// payment schedules. Amounts are integer pence; a float is refused, even 2.0.
#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

Ledger& ledger(Args& a) {
  return host(a.L).engine.ledger;
}

void push_schedule(lua_State* L, const Schedule& s) {
  lua_createtable(L, 0, 10);
  set_field(L, "version", s.version);
  set_field(L, "lump_sum", s.lump_sum);
  set_field(L, "amount_per_period", s.amount_per_period);
  set_field(L, "frequency", s.frequency);
  set_field(L, "periods", s.periods);
  set_field(L, "first_collection_date", s.first_collection_date);
  set_field(L, "issued_on", s.issued_on);
  if (s.payments_before) set_field(L, "payments_before", *s.payments_before);
  set_field(L, "in_place", s.in_place);
  if (s.acceptable) {
    set_field(L, "acceptable", *s.acceptable);
  }
}

int w_account(Args& a) {
  const Id group = a.object_or_id(1, kCasegroupType, "casegroup");
  push_object(a.L, kAccountType, ledger(a).account_of_casegroup(group).id);
  return 1;
}

constexpr Key kWriteOffKeys[] = {{"casegroup", "Casegroup or id"},
                                 {"journal", "string"},
                                 {"date", "date"},
                                 {"arrears", "integer pence"},
                                 {"charges", "integer pence", Catalogue::none, "0"}};

int w_write_offs(Args& a) {
  const Id group = a.object_or_id(1, kCasegroupType, "casegroup");
  push_list(a.L, ledger(a).write_offs(group), [&](const WriteOff& w) {
    lua_createtable(a.L, 0, 4);
    set_field(a.L, "journal", w.journal_number);
    set_field(a.L, "date", w.written_off_on);
    set_field(a.L, "arrears", w.arrears);
    set_field(a.L, "charges", w.charges);
  });
  return 1;
}

int w_write_off(Args& a) {
  a.table(1, "write_off");
  const Id group = a.field_object(1, "casegroup", kCasegroupType);
  const std::string date = a.field_date(1, "date");
  const Id id =
      ledger(a).write_off(group, a.field_string(1, "journal"), date, a.field_pence(1, "arrears"),
                          a.opt_field_pence(1, "charges").value_or(0));
  lua_pushinteger(a.L, id);
  return 1;
}

constexpr Key kWriteOffCaseKeys[] = {
    {"case", "Case or id"}, {"journal", "string"}, {"date", "date"}};

int w_write_off_case(Args& a) {
  a.table(1, "write_off");
  const auto id = ledger(a).write_off_case(a.field_object(1, "case", kCaseType),
                                           a.field_string(1, "journal"), a.field_date(1, "date"));
  if (id) {
    lua_pushinteger(a.L, *id);
  } else {
    lua_pushnil(a.L);
  }
  return 1;
}

int w_find_account(Args& a) {
  const auto account = ledger(a).account_of_client(a.object_or_id(1, kClientType, "client"));
  if (account) {
    push_object(a.L, kAccountType, account->id);
  } else {
    lua_pushnil(a.L);
  }
  return 1;
}

constexpr Key kOpenAccountKeys[] = {
    {"client", "Client or id"}, {"bancs_number", "string"}, {"method", "string"}};

int w_open_account(Args& a) {
  a.table(1, "account");
  const Id client = a.field_object(1, "client", kClientType);
  const Id id = ledger(a).open_account(client, a.opt_field_string(1, "bancs_number"),
                                       a.opt_field_string(1, "method"));
  push_object(a.L, kAccountType, id);
  return 1;
}

constexpr Key kAddDueKeys[] = {{"casegroup", "Casegroup or id"},
                               {"case", "Case or id"},
                               {"owed_to", "string"},
                               {"state", "string"},
                               {"amount", "integer pence"},
                               {"origin", "string"},
                               {"due_on", "date"},
                               {"kind", "string"}};

int w_add_due(Args& a) {
  a.table(1, "due");
  NewDue d;
  d.casegroup_id = a.field_object(1, "casegroup", kCasegroupType);
  d.case_id = a.opt_field_object(1, "case", kCaseType);
  d.owed_to = a.field_string(1, "owed_to");
  d.state = a.opt_field_string(1, "state").value_or("active");
  d.amount = a.field_pence(1, "amount");
  d.origin = a.opt_field_string(1, "origin");
  d.due_on = a.opt_field_date(1, "due_on");
  d.kind = a.opt_field_string(1, "kind").value_or("arrears");
  lua_pushinteger(a.L, ledger(a).add_due(d));
  return 1;
}

constexpr Key kSetMaintenanceKeys[] = {{"case", "Case or id"},
                                       {"amount", "integer pence"},
                                       {"frequency", "string"},
                                       {"first_due", "date"},
                                       {"ends_on", "date"}};

int w_set_maintenance(Args& a) {
  a.table(1, "liability");
  MaintenanceLiability m;
  m.case_id = a.field_object(1, "case", kCaseType);
  m.amount = a.field_pence(1, "amount");
  m.frequency = a.opt_field_string(1, "frequency").value_or("monthly");
  m.first_due_on = a.field_date(1, "first_due");
  m.ends_on = a.opt_field_date(1, "ends_on");
  ledger(a).set_maintenance(m);
  return 0;
}

constexpr Key kRaiseMaintenanceKeys[] = {{"account", "Account or id"}, {"by", "date"}};

int w_raise_maintenance(Args& a) {
  a.table(1, "query");
  lua_pushinteger(a.L, ledger(a).raise_maintenance(a.opt_field_object(1, "account", kAccountType),
                                                   a.field_date(1, "by")));
  return 1;
}

int w_dues(Args& a) {
  const Id group = a.object_or_id(1, kCasegroupType, "casegroup");
  const auto dues = ledger(a).dues(group);
  push_list(a.L, dues, [&](const Due& d) {
    lua_createtable(a.L, 0, 9);
    set_field(a.L, "id", d.id);
    if (d.case_id) {
      push_object(a.L, kCaseType, *d.case_id);
      lua_setfield(a.L, -2, "case");
    }
    set_field(a.L, "owed_to", d.owed_to);
    set_field(a.L, "state", d.state);
    set_field(a.L, "amount", d.amount);
    set_field(a.L, "paid", d.paid);
    set_field(a.L, "outstanding", d.outstanding());
    set_field(a.L, "due_on", d.due_on);
    set_field(a.L, "origin", d.origin);
    set_field(a.L, "kind", d.kind);
  });
  return 1;
}

constexpr Key kBalanceKeys[] = {
    {"casegroup", "Casegroup or id"}, {"owed_to", "string"}, {"state", "string"}};

int w_balance(Args& a) {
  a.table(1, "query");
  const Id group = a.field_object(1, "casegroup", kCasegroupType);
  lua_pushinteger(a.L, ledger(a).balance(group, a.opt_field_string(1, "owed_to"),
                                         a.opt_field_string(1, "state")));
  return 1;
}

int w_set_due_state(Args& a) {
  const Id due = a.integer(1, "due_id");
  ledger(a).set_due_state(due, a.string(2, "state"));
  return 0;
}

constexpr Key kAddChargeKeys[] = {
    {"casegroup", "Casegroup or id"}, {"kind", "string"}, {"amount", "integer pence"}};

int w_add_charge(Args& a) {
  a.table(1, "charge");
  const Id group = a.field_object(1, "casegroup", kCasegroupType);
  const std::string kind = a.field_string(1, "kind");
  lua_pushinteger(a.L, ledger(a).add_charge(group, kind, a.field_pence(1, "amount")));
  return 1;
}

int w_charges(Args& a) {
  const Id group = a.object_or_id(1, kCasegroupType, "casegroup");
  const auto charges = ledger(a).charges(group);
  push_list(a.L, charges, [&](const Charge& c) {
    lua_createtable(a.L, 0, 7);
    set_field(a.L, "id", c.id);
    set_field(a.L, "kind", c.kind);
    set_field(a.L, "state", c.state);
    set_field(a.L, "amount", c.amount);
    set_field(a.L, "paid", c.paid);
    set_field(a.L, "outstanding", c.outstanding());
    set_field(a.L, "due_on", c.due_on);
  });
  return 1;
}

constexpr Key kRecordKeys[] = {{"account", "Account or id"},
                               {"amount", "integer pence"},
                               {"date", "date"},
                               {"method", "string"},
                               {"reference", "string"}};

int w_record(Args& a) {
  a.table(1, "payment");
  const Id account = a.field_object(1, "account", kAccountType);
  const Pence amount = a.field_pence(1, "amount");
  const std::string date = a.field_date(1, "date");
  lua_pushinteger(a.L,
                  ledger(a).record_payment(account, amount, date, a.opt_field_string(1, "method"),
                                           a.opt_field_string(1, "reference")));
  return 1;
}

constexpr Key kRecordDirectKeys[] = {
    {"case", "Case or id"}, {"amount", "integer pence"}, {"date", "date"}, {"reference", "string"}};

int w_record_direct(Args& a) {
  a.table(1, "payment");
  const Id case_id = a.field_object(1, "case", kCaseType);
  const Pence amount = a.field_pence(1, "amount");
  const std::string date = a.field_date(1, "date");
  lua_pushinteger(a.L, ledger(a).record_direct_payment(case_id, amount, date,
                                                       a.opt_field_string(1, "reference")));
  return 1;
}

void push_payment(lua_State* L, const Payment& p) {
  lua_createtable(L, 0, 9);
  set_field(L, "id", p.id);
  set_field(L, "amount", p.amount);
  set_field(L, "date", p.received_on);
  set_field(L, "method", p.method);
  set_field(L, "reference", p.reference);
  set_field(L, "allocated", p.allocated);
  set_field(L, "returned_on", p.returned_on);
  set_field(L, "return_reason", p.return_reason);
  if (p.case_id) {
    push_object(L, kCaseType, *p.case_id);
    lua_setfield(L, -2, "case");
  }
}

constexpr Key kReturnKeys[] = {{"payment", "integer"}, {"date", "date"}, {"reason", "string"}};

int w_return_payment(Args& a) {
  a.table(1, "returned");
  const auto id = a.opt_field_integer(1, "payment");
  if (!id) a.fail_field(1, "payment", "integer (a payment id) expected, got nil");
  const std::string date = a.field_date(1, "date");
  push_payment(a.L, ledger(a).return_payment(*id, date, a.field_string(1, "reason")));
  return 1;
}

constexpr Key kPaymentsKeys[] = {{"account", "Account or id"}, {"since", "date"}};

int w_payments(Args& a) {
  a.table(1, "query");
  const Id account = a.field_object(1, "account", kAccountType);
  const auto list = ledger(a).payments(account, a.opt_field_date(1, "since"));
  push_list(a.L, list, [&](const Payment& p) { push_payment(a.L, p); });
  return 1;
}

int w_credit(Args& a) {
  lua_pushinteger(a.L, ledger(a).credit(a.object_or_id(1, kAccountType, "account")));
  return 1;
}

constexpr Key kPaidKeys[] = {{"account", "Account or id"},
                             {"since", "date"},
                             {"after", "integer (a payment id)"},
                             {"towards", "string"}};

int w_paid(Args& a) {
  a.table(1, "query");
  const Id account = a.field_object(1, "account", kAccountType);
  const auto towards = a.opt_field_string(1, "towards");
  if (towards && *towards != "arrears") a.fail_field(1, "towards", "only \"arrears\" is known");
  lua_pushinteger(a.L, ledger(a).paid(account, a.opt_field_date(1, "since"),
                                      a.opt_field_integer(1, "after"), towards.has_value()));
  return 1;
}

constexpr Key kIssueScheduleKeys[] = {{"casegroup", "Casegroup or id"},
                                      {"lump_sum", "integer pence"},
                                      {"amount_per_period", "integer pence"},
                                      {"frequency", "string"},
                                      {"periods", "integer"},
                                      {"first_collection_date", "date"},
                                      {"acceptable", "boolean"}};

int w_issue_schedule(Args& a) {
  a.table(1, "schedule");
  NewSchedule s;
  s.casegroup_id = a.field_object(1, "casegroup", kCasegroupType);
  s.lump_sum = a.opt_field_pence(1, "lump_sum").value_or(0);
  s.amount_per_period = a.field_pence(1, "amount_per_period");
  s.frequency = a.opt_field_string(1, "frequency").value_or("monthly");
  const auto periods = a.opt_field_integer(1, "periods");
  if (!periods) a.fail_field(1, "periods", "integer expected, got nil");
  s.periods = *periods;
  s.first_collection_date = a.field_date(1, "first_collection_date");
  s.acceptable = a.opt_field_boolean(1, "acceptable");
  push_schedule(a.L, ledger(a).issue_schedule(s));
  return 1;
}

int w_schedule(Args& a) {
  const Id group = a.object_or_id(1, kCasegroupType, "casegroup");
  const auto s = ledger(a).current_schedule(group);
  if (s) {
    push_schedule(a.L, *s);
  } else {
    lua_pushnil(a.L);
  }
  return 1;
}

// ---- Account ------------------------------------------------------------------------------

Account load_account(Args& a) {
  return ledger(a).account(a.object(1, kAccountType, "self"));
}

int m_set_method(Args& a) {
  const Id id = a.object(1, kAccountType, "self");
  const auto mop = a.opt_string(2, "method");
  ledger(a).set_method_of_payment(id, mop, a.opt_string(3, "status"));
  return 0;
}

int m_set_status(Args& a) {
  ledger(a).set_account_status(a.object(1, kAccountType, "self"), a.string(2, "status"));
  return 0;
}

int m_set_second_method(Args& a) {
  ledger(a).set_second_method(a.object(1, kAccountType, "self"), a.opt_string(2, "method"));
  return 0;
}

const Function kFunctions[] = {
    {"account", entry<w_account>, "payment.account(casegroup) -> Account",
     "The ledger account of the casegroup's paying parent."},
    {"write_offs", entry<w_write_offs>,
     "payment.write_offs(casegroup) -> {{journal, date, arrears, charges}}",
     "The casegroup's write-offs, oldest first: each journal number, the date it was written "
     "off, and the arrears and charges it wrote off."},
    {"write_off", entry<w_write_off>, "payment.write_off{} -> integer",
     "Writes off `arrears` pence of the casegroup's active dues (oldest first) and `charges` "
     "of its active charges under a journal number, as the Write off arrears process does; "
     "refused if there is less to write off.",
     Replay::record, kWriteOffKeys},
    {"write_off_case", entry<w_write_off_case>, "payment.write_off_case{} -> integer|nil",
     "Writes off everything still owed in arrears to the receiving parent of `case` (active, "
     "suspended and deferred dues; not maintenance, not the Secretary of State's) under a "
     "journal number, as when the receiving parent confirms a write-off (source 002). "
     "Returns the write-off's id, or nil when nothing was owed to them.",
     Replay::record, kWriteOffCaseKeys},
    {"find_account", entry<w_find_account>, "payment.find_account(client) -> Account|nil",
     "The paying parent's account (a Client or its id), or nil if none is open."},
    {"open_account", entry<w_open_account>, "payment.open_account{} -> Account",
     "Opens a paying parent's account. method is DD, SO, DEO or DFB.", Replay::record,
     kOpenAccountKeys},
    {"add_due", entry<w_add_due>, "payment.add_due{} -> integer",
     "Adds a due (arrears or liability) in pence. owed_to is RP (needs `case`), SOS_GB or "
     "SOS_NI; state is active (default), suspended, deferred or written_off; due_on is the "
     "date it fell due (today by default); kind is arrears (default) or maintenance (owed to "
     "RP; paid before arrears). Credit on the account is allocated to it at once. Returns "
     "its id.",
     Replay::record, kAddDueKeys},
    {"set_maintenance", entry<w_set_maintenance>, "payment.set_maintenance{}",
     "Sets the ongoing maintenance liability of an open `case`: `amount` pence falls due "
     "every `frequency` (monthly by default; weekly, fortnightly, four_weekly) from "
     "`first_due`, until `ends_on` if given. Each date's maintenance due is raised once, when "
     "a payment dated then or later is recorded or payment.raise_maintenance reaches it, and "
     "a payment pays it before any arrears (docs/money.md). Refused for a case of an "
     "arrears-only casegroup.",
     Replay::record, kSetMaintenanceKeys},
    {"raise_maintenance", entry<w_raise_maintenance>, "payment.raise_maintenance{} -> integer",
     "Raises the maintenance due of every date on or before `by` not yet raised, for "
     "`account`'s cases or every account's; returns how many dues it raised.",
     Replay::record, kRaiseMaintenanceKeys},
    {"dues", entry<w_dues>,
     "payment.dues(casegroup) -> {{id, case, owed_to, state, amount, paid, outstanding, "
     "due_on, origin, kind}}",
     "The casegroup's dues, oldest first: `amount` fell due on `due_on`, payments allocated "
     "`paid` of it, `outstanding` is the rest. `origin` says where a due came from "
     "(\"CSA transition CSA-...\" for transitioned arrears)."},
    {"balance", entry<w_balance>, "payment.balance{} -> integer",
     "What is outstanding on the casegroup's dues in pence (what fell due less what payments "
     "paid of it), optionally narrowed by owed_to and state.",
     Replay::record, kBalanceKeys},
    {"set_due_state", entry<w_set_due_state>, "payment.set_due_state(due_id, state)",
     "Moves a due to another state (suspend, reactivate, write off)."},
    {"add_charge", entry<w_add_charge>, "payment.add_charge{} -> integer",
     "Adds a collection or enforcement charge.", Replay::record, kAddChargeKeys},
    {"charges", entry<w_charges>,
     "payment.charges(casegroup) -> {{id, kind, state, amount, paid, outstanding, due_on}}",
     "The casegroup's collection and enforcement charges, oldest first."},
    {"record", entry<w_record>, "payment.record{} -> integer",
     "Records a payment received (amount > 0) and allocates it: receiving parent's dues, then "
     "the Secretary of State's, then charges, oldest first within each; what is left is "
     "credit on the account (docs/money.md).",
     Replay::record, kRecordKeys},
    {"record_direct", entry<w_record_direct>, "payment.record_direct{} -> integer",
     "Records a direct payment: the paying parent paid the receiving parent of `case` "
     "directly, outside the service (confirmed by them, or evidenced). It pays only that "
     "case's active dues to the receiving parent, oldest first, and is refused when it is "
     "more than they have outstanding (docs/money.md).",
     Replay::record, kRecordDirectKeys},
    {"return_payment", entry<w_return_payment>, "payment.return_payment{} -> payment",
     "Marks a payment returned to the payer (a recalled Direct Debit, a bounced cheque) on "
     "`date` for `reason`: what it paid is owed again. Refused for a payment already "
     "returned or a date before it was received.",
     Replay::record, kReturnKeys},
    {"payments", entry<w_payments>,
     "payment.payments{} -> {{id, amount, date, method, reference, allocated, returned_on, "
     "return_reason, case}}",
     "Payments received on the account, oldest first, optionally since a date; `allocated` "
     "is what each has paid of dues and charges.",
     Replay::record, kPaymentsKeys},
    {"credit", entry<w_credit>, "payment.credit(account) -> integer",
     "Money received on the account and not allocated, held until something active is "
     "owed."},
    {"paid", entry<w_paid>, "payment.paid{} -> integer",
     "Total received on the account, optionally since a date, and optionally only the "
     "payments recorded after payment `after`; returned payments do not count. With "
     "`towards = \"arrears\"`, less what those payments paid of maintenance dues: what "
     "counts towards a payment schedule's collections.",
     Replay::record, kPaidKeys},
    {"issue_schedule", entry<w_issue_schedule>, "payment.issue_schedule{} -> schedule",
     "Issues the next version of the casegroup's promise-to-pay schedule; the previous "
     "version stops being in place. frequency: weekly, fortnightly, four_weekly, monthly.",
     Replay::record, kIssueScheduleKeys},
    {"schedule", entry<w_schedule>, "payment.schedule(casegroup) -> schedule|nil",
     "The schedule in place: {version, lump_sum, amount_per_period, frequency, periods, "
     "first_collection_date, issued_on, payments_before, in_place, acceptable}; issued_on is "
     "the date the version was issued, payments_before the last payment recorded before it "
     "(nil for versions issued before schema 17). lump_sum is the one-off payment taken "
     "before it, recorded, not part of what it collects."},
};

const Property kProperties[] = {
    {"id", entry<object_id<kAccountType>>, "integer", "Account id.", true},
    {"bancs_number", entry<field<load_account, &Account::bancs_number>>, "string",
     "BaNCS account number.", true},
    {"method", entry<field<load_account, &Account::mop>>, "string|nil",
     "Method of payment from: DD, SO, DEO, DFB."},
    {"method_status", entry<field<load_account, &Account::mop_status>>, "string|nil",
     "active or suspended."},
    {"status", entry<field<load_account, &Account::status>>, "string",
     "active, or inactive until CFAT reactivates it (no schedule can be issued meanwhile)."},
    {"second_method", entry<field<load_account, &Account::second_mop>>, "string|nil",
     "DD or SO beside a DEO: two methods of payment."},
    {"client", entry<object_field<load_account, &Account::client_id, kClientType>>, "Client",
     "The paying parent.", true},
};

const Function kMethods[] = {
    {"set_method", entry<m_set_method>, "account:set_method(method|nil, status='active')",
     "Changes the method of payment or its status (e.g. suspends a DD)."},
    {"set_status", entry<m_set_status>, "account:set_status(status)",
     "active or inactive (the BaNCS account of a paying parent with no active cases)."},
    {"set_second_method", entry<m_set_second_method>, "account:set_second_method(method|nil)",
     "A DD or SO beside the account's DEO, or nil for none."},
};

const Type* const kTypes[] = {&kAccountType};

}  // namespace

const Type kAccountType{"Account", "A paying parent's ledger (BaNCS) account.", kMethods,
                        kProperties};
const Module kPaymentModule{"payment", "The ledger: accounts, dues, payments and schedules.",
                            kFunctions, kTypes};

}  // namespace casekit::lua
