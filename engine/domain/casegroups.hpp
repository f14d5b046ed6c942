// Clients (paying and receiving parents), casegroups and the cases in them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/core/time.hpp"
#include "engine/store/database.hpp"

namespace casekit {

using Id = std::int64_t;

inline constexpr const char* kSegments[] = {"Maintenance", "Arrears", "Enforcement", "Central Team",
                                            "Arrears Only Categorised"};
inline constexpr const char* kFlags[] = {
    "manual_allocation",       "lock_assignment",           "disable_missed_payment_monitor",
    "court_enforced_schedule", "ever_in_enforcement",       "deo_desire",
    "transition_complete",     "employer_interface_issued", "enforcement_monitoring"};
inline constexpr const char* kRegions[] = {"E&W", "Scotland", "NI"};
inline constexpr const char* kServiceTypes[] = {"Collect & Pay", "Direct Pay"};
inline constexpr const char* kAddressStatuses[] = {"confirmed", "DLO", "NFA", "JPAC"};

// Throws bad_argument naming `what` and the allowed values unless value is one of them.
void require_one_of(std::string_view what, std::string_view value,
                    std::span<const char* const> allowed);

struct Address {
  std::string line1;
  std::optional<std::string> line2;
  std::optional<std::string> town;
  std::optional<std::string> postcode;
  std::string status = "confirmed";
};

struct NewClient {
  std::optional<std::string> nino;
  std::string name;
  std::optional<std::string> dob;
  std::optional<std::string> employment_status;
  std::optional<std::string> benefit_status;
  std::optional<Address> address;
};

struct Client {
  Id id = 0;
  std::optional<std::string> nino;
  std::string name;
  std::optional<std::string> dob;
  std::optional<std::string> employment_status;
  std::optional<std::string> benefit_status;
  bool contact_suppressed = false;
  bool deceased = false;
  std::optional<Address> address;  // the correspondence address
};

struct NewCasegroup {
  std::optional<std::string> csa_ref;
  Id paying_parent_id = 0;
  std::string segment = "Maintenance";
  std::string service_type = "Collect & Pay";
  bool arrears_only = false;
  std::string region = "E&W";
  std::optional<std::string> review_date;
  std::optional<std::string> annual_review_date;
};

struct Casegroup {
  Id id = 0;
  std::optional<std::string> csa_ref;
  Id paying_parent_id = 0;
  std::string segment;
  std::string service_type;
  bool arrears_only = false;
  std::string region;
  std::optional<std::string> review_date;
  std::optional<std::string> annual_review_date;
  std::string created_at;
  std::vector<std::string> flags;
};

struct Case {
  Id id = 0;
  Id casegroup_id = 0;
  Id receiving_parent_id = 0;
  std::string status;
  std::optional<std::string> csa_scheme;
  std::optional<std::string> csa_case_ref;
  // Undergoing a Segment 5 compliance opportunity (source 000 step 12, the AAC check).
  bool compliance_opportunity = false;
};

struct CasegroupFilter {
  std::optional<std::string> segment;
  std::optional<std::string> flag;
  std::optional<std::string> csa_ref;
  std::optional<std::string> nino;  // of the paying parent or a receiving parent
  // The start of a parent's name, or of any word of it, without regard to case or accents.
  std::optional<std::string> name;
  std::optional<std::string> review_due_by;  // a review date on or before this date
  Id after_id = 0;                           // for paging: only ids greater than this
  int limit = 100;
};

class Casegroups {
 public:
  Casegroups(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  Id create_client(const NewClient& c);
  // The client with their correspondence address; client_row() without it, for reading
  // one of the client's own fields.
  Client client(Id id);
  Client client_row(Id id);
  std::optional<Id> find_client_by_nino(std::string_view nino);
  void set_address(Id client_id, const Address& address);
  // employment_status, benefit_status: free text or nil; contact_suppressed, deceased: "0"/"1".
  void set_client_attribute(Id client_id, std::string_view name,
                            const std::optional<std::string>& value);

  Id create(const NewCasegroup& g);
  // The casegroup with its flags; row() without them, for reading one of its own fields;
  // require() only checks there is one. Each throws not_found for an unknown id.
  Casegroup get(Id id);
  Casegroup row(Id id);
  void require(Id id);
  std::optional<Id> find_by_csa_ref(std::string_view csa_ref);
  // The paying parent's casegroup (the first, should there be more than one).
  std::optional<Id> find_by_paying_parent(Id client_id);
  std::vector<Casegroup> list(const CasegroupFilter& filter);
  void set_segment(Id id, std::string_view segment);
  void set_service_type(Id id, std::string_view service_type);
  void set_review_date(Id id, const std::optional<std::string>& date);
  void set_flag(Id id, std::string_view flag, bool on);
  bool has_flag(Id id, std::string_view flag);
  std::vector<std::string> flags(Id id);

  Id add_case(Id casegroup_id, Id receiving_parent_id,
              const std::optional<std::string>& csa_scheme = std::nullopt,
              const std::optional<std::string>& csa_case_ref = std::nullopt);
  Case get_case(Id id);
  std::optional<Id> find_case(Id casegroup_id, Id receiving_parent_id);
  void set_compliance_opportunity(Id case_id, bool on);
  void set_csa_details(Id case_id, const std::optional<std::string>& csa_scheme,
                       const std::optional<std::string>& csa_case_ref);
  std::vector<Case> cases(Id casegroup_id);

  // A name search reads the other way round past this many casegroups with the name
  // (Casegroups::common_name); tests lower it to try both ways on a small store.
  static constexpr std::int64_t kCommonName = 10'000;
  void set_common_name(std::int64_t casegroups) { common_name_ = casegroups; }

 private:
  // Whether more than common_name_ casegroups have a parent with a name key in [from, to).
  bool common_name(const std::string& from, const std::string& to);
  void require_client(Id id);
  std::string now() const { return format_instant(clock_.now()); }
  void release_held_payments(Id id);

  Database& db_;
  const Clock& clock_;
  std::int64_t common_name_ = kCommonName;
};

nlohmann::json to_json(const Address& a);
nlohmann::json to_json(const Client& c);
nlohmann::json to_json(const Case& c);

}  // namespace casekit
