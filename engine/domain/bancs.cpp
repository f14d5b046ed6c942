#include "engine/domain/bancs.hpp"

#include "engine/core/error.hpp"
#include "engine/domain/allocation.hpp"

namespace casekit {
namespace {

struct WriteOffRow {
  Id id = 0;
  Id casegroup = 0;
  std::string written_off_on;
  Pence arrears = 0;
  Pence charges = 0;
  Pence reversed = 0;
};

std::optional<WriteOffRow> find_write_off(Database& db, Id account, const std::string& journal) {
  auto st = db.prepare(
      "SELECT id, casegroup_id, written_off_on, arrears_amount, charges_amount, "
      "reversed_amount FROM write_offs WHERE account_id = ?1 AND journal_number = ?2");
  st.bind_all(account, journal);
  if (!st.step()) return std::nullopt;
  return WriteOffRow{st.integer(0), st.integer(1), st.text(2),
                     st.integer(3), st.integer(4), st.integer(5)};
}

BancsAnswer refused(std::string message) {
  BancsAnswer a;
  a.message = std::move(message);
  return a;
}

BancsAnswer no_write_off(const std::string& journal) {
  return refused("no write-off with journal number " + journal + " on this account");
}

}  // namespace

// ---- LocalBancs -----------------------------------------------------------------------------

BancsAnswer LocalBancs::display_written_off(Id account, const std::string& journal) {
  const auto wo = find_write_off(db_, account, journal);
  if (!wo) return no_write_off(journal);
  BancsAnswer a;
  a.ok = true;
  a.message = "written off arrears displayed";
  a.amount = money::sub(money::add(wo->arrears, wo->charges), wo->reversed);
  auto st = db_.prepare(
      "SELECT coalesce(sum(CASE WHEN owed_to = 'RP' THEN amount END), 0), "
      "coalesce(sum(CASE WHEN owed_to <> 'RP' THEN amount END), 0) "
      "FROM dues WHERE write_off_id = ?1 AND state = 'written_off'");
  st.bind(1, wo->id);
  st.step();
  a.rp_written_off = st.integer(0);
  auto charges = db_.prepare(
      "SELECT coalesce(sum(amount), 0) FROM charges WHERE write_off_id = ?1 AND "
      "state = 'written_off'");
  charges.bind(1, wo->id);
  charges.step();
  a.cmg_written_off = money::add(st.integer(1), charges.integer(0));
  return a;
}

BancsAnswer LocalBancs::reverse_write_off(Id account, const std::string& journal,
                                          const std::string& write_off_date, Pence amount) {
  const auto wo = find_write_off(db_, account, journal);
  if (!wo) return no_write_off(journal);
  if (wo->written_off_on != write_off_date) {
    return refused("journal " + journal + " was written off on " + wo->written_off_on + ", not " +
                   write_off_date);
  }
  const Pence left = money::sub(money::add(wo->arrears, wo->charges), wo->reversed);
  if (amount <= 0) return refused("the amount to reverse must be more than nothing");
  if (amount > left) {
    return refused("the amount to reverse, " + money::format(amount) +
                   ", is more than is left written off under journal " + journal + " (" +
                   money::format(left) + " including collection and enforcement charges)");
  }
  const std::string now = format_instant(clock_.now());
  // Arrears first, back as suspended liabilities; then charges, which have no suspended state.
  const Pence after_dues = move_liabilities(db_, now, LiabilityTable::dues, "write_off_id", wo->id,
                                            "written_off", "suspended", amount, std::nullopt);
  const Pence after_charges =
      move_liabilities(db_, now, LiabilityTable::charges, "write_off_id", wo->id, "written_off",
                       "active", after_dues, std::nullopt);
  if (after_charges != 0) {
    throw Error(ErrorCode::internal, "write-off " + journal + " holds less than it records");
  }
  BancsAnswer a;
  a.ok = true;
  a.message = "written off arrears reversed in BaNCS";
  a.amount = amount;
  a.reverse_journal = "RV-" + journal;
  a.reverse_date = format_date(clock_.today());
  db_.prepare(
         "UPDATE write_offs SET reversed_amount = reversed_amount + ?2, reverse_journal = ?3, "
         "reversed_on = ?4 WHERE id = ?1")
      .bind_all(wo->id, amount, *a.reverse_journal, *a.reverse_date)
      .run();
  // Charges come back active, so credit on the account pays them at once.
  allocate_credit(db_, now, account);
  return a;
}

BancsAnswer LocalBancs::unsuspend(Id account, const std::string& journal) {
  const auto wo = find_write_off(db_, account, journal);
  if (!wo) return no_write_off(journal);
  auto st = db_.prepare(
      "SELECT coalesce(sum(amount), 0) FROM dues WHERE write_off_id = ?1 AND state = "
      "'suspended'");
  st.bind(1, wo->id);
  st.step();
  const Pence suspended = st.integer(0);
  if (suspended == 0) return refused("no liabilities suspended under journal " + journal);
  db_.prepare("UPDATE dues SET state = 'active' WHERE write_off_id = ?1 AND state = 'suspended'")
      .bind(1, wo->id)
      .run();
  allocate_credit(db_, format_instant(clock_.now()), account);
  BancsAnswer a;
  a.ok = true;
  a.message = "suspended liabilities made active";
  a.amount = suspended;
  return a;
}

// ---- FailingBancs ---------------------------------------------------------------------------

std::optional<BancsAnswer> FailingBancs::failure(const std::string& operation) const {
  const auto it = failures_.find(operation);
  if (it == failures_.end()) return std::nullopt;
  return refused(it->second);
}

BancsAnswer FailingBancs::display_written_off(Id account, const std::string& journal) {
  if (auto f = failure("display_written_off")) return *f;
  return real_.display_written_off(account, journal);
}

BancsAnswer FailingBancs::reverse_write_off(Id account, const std::string& journal,
                                            const std::string& write_off_date, Pence amount) {
  if (auto f = failure("reverse_write_off")) return *f;
  return real_.reverse_write_off(account, journal, write_off_date, amount);
}

BancsAnswer FailingBancs::unsuspend(Id account, const std::string& journal) {
  if (auto f = failure("unsuspend")) return *f;
  return real_.unsuspend(account, journal);
}

// ---- BancsInterface -------------------------------------------------------------------------

BancsInterface::BancsInterface(Database& db, const Clock& clock, ServiceRequests& srs,
                               Ledger& ledger)
    : db_(db), clock_(clock), srs_(srs), ledger_(ledger), local_(db, clock), adapter_(&local_) {}

Id BancsInterface::account_of(Id sr) {
  const ServiceRequest r = srs_.get(sr);
  if (!r.casegroup_id) {
    throw Error(ErrorCode::bad_argument, "SR " + std::to_string(sr) + " has no casegroup");
  }
  return ledger_.account_of_casegroup(*r.casegroup_id).id;
}

void BancsInterface::record_status(Id sr, const BancsAnswer& a) {
  srs_.set_field(sr, "bancs_status", a.ok ? "ok" : "ERR");
  srs_.set_field(sr, "bancs_message", a.message);
}

BancsAnswer BancsInterface::display_written_off(Id sr, const std::string& journal) {
  const Id account = account_of(sr);
  const BancsAnswer a = adapter_->display_written_off(account, journal);
  const std::string now = format_instant(clock_.now());
  // The row is made on the first call whatever the answer, and never removed; a failed call
  // leaves the figures of the last good one.
  db_.prepare(
         "INSERT INTO payment_requests(sr_id, kind, updated_at) "
         "VALUES (?1, 'Suspend - write off liability', ?2) ON CONFLICT (sr_id, kind) DO NOTHING")
      .bind_all(sr, now)
      .run();
  if (a.ok) {
    db_.prepare(
           "UPDATE payment_requests SET amount = ?2, rp_written_off = ?3, cmg_written_off = ?4, "
           "bancs_status = 'ok', message = ?5, updated_at = ?6 "
           "WHERE sr_id = ?1 AND kind = 'Suspend - write off liability'")
        .bind_all(sr, a.amount, a.rp_written_off, a.cmg_written_off, a.message, now)
        .run();
  } else {
    db_.prepare(
           "UPDATE payment_requests SET bancs_status = 'ERR', message = ?2, updated_at = ?3 "
           "WHERE sr_id = ?1 AND kind = 'Suspend - write off liability'")
        .bind_all(sr, a.message, now)
        .run();
  }
  return a;
}

BancsAnswer BancsInterface::reverse_write_off(Id sr, const std::string& journal,
                                              const std::string& write_off_date, Pence amount) {
  const BancsAnswer a =
      adapter_->reverse_write_off(account_of(sr), journal, write_off_date, amount);
  record_status(sr, a);
  if (a.ok) {
    srs_.set_field(sr, "reverse_write_off_date", a.reverse_date);
    srs_.set_field(sr, "reverse_journal_number", a.reverse_journal);
  }
  return a;
}

BancsAnswer BancsInterface::unsuspend(Id sr, const std::string& journal) {
  const BancsAnswer a = adapter_->unsuspend(account_of(sr), journal);
  record_status(sr, a);
  return a;
}

}  // namespace casekit
