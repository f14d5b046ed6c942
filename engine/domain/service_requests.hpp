// Service requests: typed by Process / Area / Sub Area from the SR catalogue, with a
// status, notes, free-form fields, an activity plan and links to parent and related SRs.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/domain/casegroups.hpp"
#include "engine/domain/catalogue.hpp"

namespace casekit {

struct NewServiceRequest {
  std::string process;
  std::string area;
  std::string sub_area;
  std::string status = "Open";
  std::optional<std::string> sub_status;
  std::optional<std::string> reason;
  std::optional<Id> casegroup_id;
  std::optional<Id> case_id;
  std::optional<Id> parent_id;
};

struct ServiceRequest {
  Id id = 0;
  std::string process;
  std::string area;
  std::string sub_area;
  std::string status;
  std::optional<std::string> sub_status;
  std::optional<std::string> resolution_code;
  std::optional<std::string> reason;
  std::optional<Id> casegroup_id;
  std::optional<Id> case_id;
  std::optional<Id> parent_id;
  std::optional<std::string> owner_team;
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> closed_at;

  bool open() const { return status != "Closed"; }
};

struct SrNote {
  std::string author;
  std::string body;
  std::string created_at;
};

struct SrStep {
  std::int64_t seq = 0;
  std::string name;
  std::string status;
  std::optional<std::string> completed_at;
};

struct SrFilter {
  std::optional<Id> casegroup_id;
  std::optional<std::string> sub_area;  // case-insensitive
  std::optional<std::string> status;
  bool open_only = false;
  Id after = 0;  // only ids above this: the next page after the last id seen
  int limit = 100;
};

class ServiceRequests {
 public:
  ServiceRequests(Database& db, const Clock& clock, const SrCatalogue& catalogue,
                  Casegroups& casegroups)
      : db_(db), clock_(clock), catalogue_(catalogue), casegroups_(casegroups) {}

  Id create(const NewServiceRequest& r);
  ServiceRequest get(Id id);
  std::vector<ServiceRequest> list(const SrFilter& filter);
  std::vector<ServiceRequest> children(Id id);

  void set_status(Id id, std::string_view status, const std::optional<std::string>& sub_status);
  void set_reason(Id id, const std::optional<std::string>& reason);
  void set_resolution_code(Id id, const std::optional<std::string>& code);
  // Status Closed with the given sub status (Complete, Cancelled, ...).
  void close(Id id, std::string_view sub_status, const std::optional<std::string>& resolution);

  void add_note(Id id, std::string_view author, std::string_view body);
  std::vector<SrNote> notes(Id id);

  void set_field(Id id, std::string_view name, const std::optional<std::string>& value);
  std::optional<std::string> field(Id id, std::string_view name);
  std::vector<std::pair<std::string, std::string>> fields(Id id);

  // Activity plan: steps are appended in order and marked done or skipped by name.
  void add_step(Id id, std::string_view name);
  // Appends several steps at once; status "done" or "skipped" records steps already taken.
  void add_steps(Id id, const std::vector<std::string>& names, std::string_view status);
  void set_step(Id id, std::string_view name, std::string_view status);
  std::vector<SrStep> steps(Id id);

  void relate(Id id, Id other);
  std::vector<Id> related(Id id);

 private:
  void require_open(Id id);
  void touch(Id id);
  std::string now() const { return format_instant(clock_.now()); }

  Database& db_;
  const Clock& clock_;
  const SrCatalogue& catalogue_;
  Casegroups& casegroups_;
};

nlohmann::json to_json(const ServiceRequest& r);

}  // namespace casekit
