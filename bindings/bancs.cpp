// Lua module `bancs`: the finance ledger's interface as the write-off reversal (source 004)
// uses it. A refusal from BaNCS is an answer ({ok = false, message = ...}) for the procedure
// to branch on, and is also written to the SR as the source's screens show it
// (engine/domain/bancs.hpp).
#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

void push_answer(lua_State* L, const BancsAnswer& a) {
  lua_createtable(L, 0, 7);
  set_field(L, "ok", a.ok);
  set_field(L, "message", a.message);
  set_field(L, "amount", static_cast<std::int64_t>(a.amount));
  if (a.rp_written_off || a.cmg_written_off) {
    set_field(L, "rp_written_off", static_cast<std::int64_t>(a.rp_written_off));
    set_field(L, "cmg_written_off", static_cast<std::int64_t>(a.cmg_written_off));
  }
  set_field(L, "reverse_journal", a.reverse_journal);
  set_field(L, "reverse_date", a.reverse_date);
}

BancsInterface& bancs(Args& a) {
  return host(a.L).engine.bancs;
}

constexpr Key kDisplayWrittenOffKeys[] = {{"sr", "SR or id"}, {"journal", "string"}};

int w_display_written_off(Args& a) {
  a.table(1, "request");
  push_answer(a.L, bancs(a).display_written_off(a.field_object(1, "sr", kSrType),
                                                a.field_string(1, "journal")));
  return 1;
}

constexpr Key kReverseWriteOffKeys[] = {{"sr", "SR or id"},
                                        {"journal", "string"},
                                        {"write_off_date", "date"},
                                        {"amount", "integer pence"}};

int w_reverse_write_off(Args& a) {
  a.table(1, "request");
  const Id sr = a.field_object(1, "sr", kSrType);
  const std::string journal = a.field_string(1, "journal");
  const std::string date = a.field_date(1, "write_off_date");
  push_answer(a.L, bancs(a).reverse_write_off(sr, journal, date, a.field_pence(1, "amount")));
  return 1;
}

constexpr Key kUnsuspendKeys[] = {{"sr", "SR or id"}, {"journal", "string"}};

int w_unsuspend(Args& a) {
  a.table(1, "request");
  push_answer(a.L,
              bancs(a).unsuspend(a.field_object(1, "sr", kSrType), a.field_string(1, "journal")));
  return 1;
}

const Function kFunctions[] = {
    {"display_written_off", entry<w_display_written_off>,
     "bancs.display_written_off{} -> {ok=, message=, amount=, rp_written_off=, cmg_written_off=}",
     "Asks BaNCS what the write-off with this journal number (on the SR's casegroup's account) "
     "took: `amount` is what is left to reverse, including collection and enforcement "
     "charges. Keeps exactly one 'Suspend - write off liability' payment request row for the "
     "SR, updated by every call; a failed call (`ok` false, `message` why) keeps the row and "
     "its last figures.",
     Replay::record, kDisplayWrittenOffKeys},
    {"reverse_write_off", entry<w_reverse_write_off>,
     "bancs.reverse_write_off{} -> {ok=, message=, amount=, reverse_journal=, reverse_date=}",
     "Reverses `amount` pence of the write-off: the arrears come back suspended (then charges, "
     "active). Refused (`ok` false) when the journal or its date do not match or the amount is "
     "more than is left written off. Sets the SR's fields bancs_status (ok or ERR) and "
     "bancs_message, and on success reverse_write_off_date and reverse_journal_number.",
     Replay::record, kReverseWriteOffKeys},
    {"unsuspend", entry<w_unsuspend>, "bancs.unsuspend{} -> {ok=, message=, amount=}",
     "Makes the liabilities the reversal of this journal suspended active again; sets the "
     "SR's bancs_status and bancs_message.",
     Replay::record, kUnsuspendKeys},
};

}  // namespace

const Module kBancsModule{
    "bancs", "BaNCS, the finance ledger: write-offs and their reversal.", kFunctions, {}};

}  // namespace casekit::lua
