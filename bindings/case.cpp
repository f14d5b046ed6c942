// Lua module `case`: casegroups, the cases in them, and clients (paying and receiving
// parents). Objects hold only an id; every property read goes to the store, so a script
// never sees stale data.
#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

Casegroups& groups(Args& a) {
  return host(a.L).engine.casegroups;
}

void push_address(lua_State* L, const Address& addr) {
  lua_createtable(L, 0, 5);
  set_field(L, "line1", addr.line1);
  set_field(L, "line2", addr.line2);
  set_field(L, "town", addr.town);
  set_field(L, "postcode", addr.postcode);
  set_field(L, "status", addr.status);
}

constexpr Key kAddressKeys[] = {{"line1", "string"},
                                {"line2", "string"},
                                {"town", "string"},
                                {"postcode", "string"},
                                {"status", "string", Catalogue::none, "confirmed"}};

// Reads the address table at stack index `at`.
Address read_address(Args& a, int at, const char* name) {
  a.table(at, name, kAddressKeys);
  Address addr;
  addr.line1 = a.field_string(at, "line1");
  addr.line2 = a.opt_field_string(at, "line2");
  addr.town = a.opt_field_string(at, "town");
  addr.postcode = a.opt_field_string(at, "postcode");
  addr.status = a.opt_field_string(at, "status").value_or("confirmed");
  return addr;
}

// ---- module functions -----------------------------------------------------------------------

int w_get(Args& a) {
  const Id id = a.integer(1, "id");
  groups(a).get(id);
  push_object(a.L, kCasegroupType, id);
  return 1;
}

constexpr Key kFindKeys[] = {{"csa_ref", "string"}, {"paying_parent", "Client or id"}};

int w_find(Args& a) {
  a.table(1, "query");
  const auto ref = a.opt_field_string(1, "csa_ref");
  const auto pp = a.opt_field_object(1, "paying_parent", kClientType);
  if (ref.has_value() == pp.has_value()) a.fail(1, "query", "give one of csa_ref, paying_parent");
  const auto id = ref ? groups(a).find_by_csa_ref(*ref) : groups(a).find_by_paying_parent(*pp);
  if (id) {
    push_object(a.L, kCasegroupType, *id);
  } else {
    lua_pushnil(a.L);
  }
  return 1;
}

constexpr Key kListKeys[] = {{"segment", "string"},
                             {"flag", "string"},
                             {"review_due_by", "date"},
                             {"after", "integer"},
                             {"limit", "integer"}};

int w_list(Args& a) {
  CasegroupFilter f;
  if (!a.none(1)) {
    a.table(1, "filter");
    f.segment = a.opt_field_string(1, "segment");
    f.review_due_by = a.opt_field_date(1, "review_due_by");
    f.flag = a.opt_field_string(1, "flag");
    f.after_id = a.opt_field_integer(1, "after").value_or(0);
    const auto limit = a.opt_field_integer(1, "limit").value_or(100);
    if (limit < 1 || limit > 10000) a.fail_field(1, "limit", "must be between 1 and 10000");
    f.limit = static_cast<int>(limit);
  }
  const auto found = groups(a).list(f);
  push_list(a.L, found, [&](const Casegroup& g) { push_object(a.L, kCasegroupType, g.id); });
  return 1;
}

int w_client(Args& a) {
  const Id id = a.integer(1, "id");
  groups(a).client(id);
  push_object(a.L, kClientType, id);
  return 1;
}

constexpr Key kFindClientKeys[] = {{"nino", "string"}};

int w_find_client(Args& a) {
  a.table(1, "query");
  const auto id = groups(a).find_client_by_nino(a.field_string(1, "nino"));
  if (id) {
    push_object(a.L, kClientType, *id);
  } else {
    lua_pushnil(a.L);
  }
  return 1;
}

constexpr Key kCreateClientKeys[] = {
    {"name", "string"},
    {"nino", "string"},
    {"dob", "date"},
    {"employment_status", "string"},
    {"benefit_status", "string"},
    {"address", "table: line1=, line2=, town=, postcode=, status="}};

int w_create_client(Args& a) {
  a.table(1, "client");
  NewClient c;
  c.name = a.field_string(1, "name");
  c.nino = a.opt_field_string(1, "nino");
  c.dob = a.opt_field_date(1, "dob");
  c.employment_status = a.opt_field_string(1, "employment_status");
  c.benefit_status = a.opt_field_string(1, "benefit_status");
  lua_settop(a.L, 1);
  lua_getfield(a.L, 1, "address");
  if (!lua_isnil(a.L, 2)) c.address = read_address(a, 2, "address");
  push_object(a.L, kClientType, groups(a).create_client(c));
  return 1;
}

constexpr Key kCreateCasegroupKeys[] = {
    {"paying_parent", "Client or id"}, {"csa_ref", "string"},         {"segment", "string"},
    {"service_type", "string"},        {"arrears_only", "boolean"},   {"region", "string"},
    {"review_date", "date"},           {"annual_review_date", "date"}};

int w_create_casegroup(Args& a) {
  a.table(1, "casegroup");
  NewCasegroup g;
  g.paying_parent_id = a.field_object(1, "paying_parent", kClientType);
  g.csa_ref = a.opt_field_string(1, "csa_ref");
  g.segment = a.opt_field_string(1, "segment").value_or("Maintenance");
  g.service_type = a.opt_field_string(1, "service_type").value_or("Collect & Pay");
  g.arrears_only = a.opt_field_boolean(1, "arrears_only").value_or(false);
  g.region = a.opt_field_string(1, "region").value_or("E&W");
  g.review_date = a.opt_field_date(1, "review_date");
  g.annual_review_date = a.opt_field_date(1, "annual_review_date");
  push_object(a.L, kCasegroupType, groups(a).create(g));
  return 1;
}

// ---- Casegroup --------------------------------------------------------------------------

// A property reads one of the casegroup's own fields: its flags are not needed.
Casegroup load_casegroup(Args& a) {
  return groups(a).row(a.object(1, kCasegroupType, "self"));
}

int m_cg_cases(Args& a) {
  const auto cases = groups(a).cases(a.object(1, kCasegroupType, "self"));
  push_list(a.L, cases, [&](const Case& c) { push_object(a.L, kCaseType, c.id); });
  return 1;
}

int m_cg_flags(Args& a) {
  const auto flags = groups(a).flags(a.object(1, kCasegroupType, "self"));
  push_list(a.L, flags, [&](const std::string& f) { push_string(a.L, f); });
  return 1;
}

int m_cg_has_flag(Args& a) {
  const Id id = a.object(1, kCasegroupType, "self");
  lua_pushboolean(a.L, groups(a).has_flag(id, a.string(2, "flag")));
  return 1;
}

int m_cg_set_flag(Args& a) {
  const Id id = a.object(1, kCasegroupType, "self");
  const std::string flag = a.string(2, "flag");
  const bool on = a.none(3) ? true : a.boolean(3, "on");
  groups(a).set_flag(id, flag, on);
  return 0;
}

int m_cg_set_segment(Args& a) {
  const Id id = a.object(1, kCasegroupType, "self");
  groups(a).set_segment(id, a.string(2, "segment"));
  return 0;
}

int m_cg_set_service_type(Args& a) {
  const Id id = a.object(1, kCasegroupType, "self");
  groups(a).set_service_type(id, a.string(2, "service_type"));
  return 0;
}

int m_cg_set_review_date(Args& a) {
  const Id id = a.object(1, kCasegroupType, "self");
  groups(a).set_review_date(id, a.opt_date(2, "date"));
  return 0;
}

constexpr Key kMCgAddCaseKeys[] = {
    {"receiving_parent", "Client or id"}, {"csa_scheme", "string"}, {"csa_case_ref", "string"}};

int m_cg_add_case(Args& a) {
  const Id id = a.object(1, kCasegroupType, "self");
  a.table(2, "case");
  const Id rp = a.field_object(2, "receiving_parent", kClientType);
  const Id case_id = groups(a).add_case(id, rp, a.opt_field_string(2, "csa_scheme"),
                                        a.opt_field_string(2, "csa_case_ref"));
  push_object(a.L, kCaseType, case_id);
  return 1;
}

int m_cg_case_of(Args& a) {
  const Id id = a.object(1, kCasegroupType, "self");
  const auto found = groups(a).find_case(id, a.object_or_id(2, kClientType, "receiving_parent"));
  if (found) {
    push_object(a.L, kCaseType, *found);
  } else {
    lua_pushnil(a.L);
  }
  return 1;
}

// ---- Case -----------------------------------------------------------------------------------

Case load_case(Args& a) {
  return groups(a).get_case(a.object(1, kCaseType, "self"));
}

constexpr Key kMCaseSetCsaDetailsKeys[] = {{"scheme", "string"}, {"ref", "string"}};

int m_case_set_csa_details(Args& a) {
  const Id id = a.object(1, kCaseType, "self");
  a.table(2, "details");
  groups(a).set_csa_details(id, a.opt_field_string(2, "scheme"), a.opt_field_string(2, "ref"));
  return 0;
}

int m_case_set_compliance_opportunity(Args& a) {
  const Id id = a.object(1, kCaseType, "self");
  groups(a).set_compliance_opportunity(id, a.none(2) ? true : a.boolean(2, "on"));
  return 0;
}

// ---- Client ---------------------------------------------------------------------------------

// A property reads one of the client's own fields: the address is read only for `address`.
Client load_client(Args& a) {
  return groups(a).client_row(a.object(1, kClientType, "self"));
}

int p_client_address(Args& a) {
  const Client c = groups(a).client(a.object(1, kClientType, "self"));
  if (c.address) {
    push_address(a.L, *c.address);
  } else {
    lua_pushnil(a.L);
  }
  return 1;
}

int m_client_set_address(Args& a) {
  const Id id = a.object(1, kClientType, "self");
  groups(a).set_address(id, read_address(a, 2, "address"));
  return 0;
}

// One setter for the client attributes; `name` is fixed per registered method.
template <const char* Name, bool Boolean>
int m_client_set(Args& a) {
  const Id id = a.object(1, kClientType, "self");
  std::optional<std::string> value;
  if constexpr (Boolean) {
    value = a.boolean(2, "value") ? "1" : "0";
  } else {
    value = a.opt_string(2, "value");
  }
  groups(a).set_client_attribute(id, Name, value);
  return 0;
}

constexpr char kEmployment[] = "employment_status";
constexpr char kBenefit[] = "benefit_status";
constexpr char kSuppressed[] = "contact_suppressed";
constexpr char kDeceased[] = "deceased";

// ---- declarations ---------------------------------------------------------------------------

const Function kFunctions[] = {
    {"get", entry<w_get>, "case.get(id) -> Casegroup",
     "The casegroup with this id; error if none."},
    {"find", entry<w_find>, "case.find{} -> Casegroup|nil",
     "Give one key: the casegroup with this CSA reference (`csa_ref`), or the paying "
     "parent's casegroup (`paying_parent`, a Client or its id); nil if none.",
     Replay::record, kFindKeys},
    {"list", entry<w_list>, "case.list{} -> {Casegroup}",
     "Casegroups in id order, optionally in one segment, carrying one flag, or with a review "
     "date on or before `review_due_by`. `after` is the "
     "last id of the previous page; `limit` defaults to 100 (at most 10000).",
     Replay::record, kListKeys},
    {"client", entry<w_client>, "case.client(id) -> Client", "The client with this id."},
    {"find_client", entry<w_find_client>, "case.find_client{} -> Client|nil",
     "The client with this National Insurance number, or nil.", Replay::record, kFindClientKeys},
    {"create_client", entry<w_create_client>, "case.create_client{} -> Client",
     "Creates a client. `address` is {line1=, line2=, town=, postcode=, status=} with status "
     "one of confirmed, DLO, NFA, JPAC (default confirmed).",
     Replay::record, kCreateClientKeys},
    {"create_casegroup", entry<w_create_casegroup>, "case.create_casegroup{} -> Casegroup",
     "Creates a casegroup for a paying parent. Defaults: segment Maintenance, service_type "
     "'Collect & Pay', region E&W.",
     Replay::record, kCreateCasegroupKeys},
};

const Property kCasegroupProperties[] = {
    {"id", entry<object_id<kCasegroupType>>, "integer", "Casegroup id.", true},
    {"csa_ref", entry<field<load_casegroup, &Casegroup::csa_ref>>, "string|nil",
     "CSA reference, for transitioned casegroups.", true},
    {"segment", entry<field<load_casegroup, &Casegroup::segment>>, "string",
     "Maintenance, Arrears, Enforcement, Central Team or Arrears Only Categorised."},
    {"service_type", entry<field<load_casegroup, &Casegroup::service_type>>, "string",
     "'Collect & Pay' or 'Direct Pay'."},
    {"arrears_only", entry<field<load_casegroup, &Casegroup::arrears_only>>, "boolean",
     "An arrears-only casegroup."},
    {"region", entry<field<load_casegroup, &Casegroup::region>>, "string",
     "Maintenance region: E&W, Scotland or NI."},
    {"review_date", entry<field<load_casegroup, &Casegroup::review_date>>, "string|nil",
     "Next review date."},
    {"annual_review_date", entry<field<load_casegroup, &Casegroup::annual_review_date>>,
     "string|nil", "Annual review date."},
    {"paying_parent",
     entry<object_field<load_casegroup, &Casegroup::paying_parent_id, kClientType>>, "Client",
     "The paying parent.", true},
};

const Function kCasegroupMethods[] = {
    {"cases", entry<m_cg_cases>, "cg:cases() -> {Case}", "The cases in the casegroup."},
    {"flags", entry<m_cg_flags>, "cg:flags() -> {string}", "Names of the flags that are set."},
    {"has_flag", entry<m_cg_has_flag>, "cg:has_flag(name) -> boolean",
     "Whether a flag is set. Flags: manual_allocation, lock_assignment, "
     "disable_missed_payment_monitor, court_enforced_schedule, ever_in_enforcement, "
     "deo_desire, transition_complete, employer_interface_issued."},
    {"set_flag", entry<m_cg_set_flag>, "cg:set_flag(name, on=true)", "Sets or clears a flag."},
    {"set_segment", entry<m_cg_set_segment>, "cg:set_segment(segment)",
     "Moves the casegroup to another segment."},
    {"set_service_type", entry<m_cg_set_service_type>, "cg:set_service_type(service_type)",
     "'Collect & Pay' or 'Direct Pay'."},
    {"set_review_date", entry<m_cg_set_review_date>, "cg:set_review_date(date|nil)",
     "Sets or clears the review date."},
    {"add_case", entry<m_cg_add_case>, "cg:add_case{} -> Case",
     "Adds a case for a receiving parent.", Replay::record, kMCgAddCaseKeys},
    {"case_of", entry<m_cg_case_of>, "cg:case_of(receiving_parent) -> Case|nil",
     "The casegroup's case for this receiving parent (a Client or its id), or nil."},
};

const Function kCaseMethods[] = {
    {"set_csa_details", entry<m_case_set_csa_details>, "case:set_csa_details{}",
     "Records the CSA scheme and the CSA case reference the case came from (nil clears).",
     Replay::record, kMCaseSetCsaDetailsKeys},
    {"set_compliance_opportunity", entry<m_case_set_compliance_opportunity>,
     "case:set_compliance_opportunity(on=true)",
     "Marks the case as undergoing a Segment 5 compliance opportunity, or no longer."},
};

const Property kCaseProperties[] = {
    {"id", entry<object_id<kCaseType>>, "integer", "Case id.", true},
    {"casegroup", entry<object_field<load_case, &Case::casegroup_id, kCasegroupType>>, "Casegroup",
     "The casegroup the case is in.", true},
    {"receiving_parent", entry<object_field<load_case, &Case::receiving_parent_id, kClientType>>,
     "Client", "The receiving parent.", true},
    {"status", entry<field<load_case, &Case::status>>, "string", "Open or Closed."},
    {"csa_scheme", entry<field<load_case, &Case::csa_scheme>>, "string|nil",
     "CSA scheme (1993, 2003)."},
    {"csa_case_ref", entry<field<load_case, &Case::csa_case_ref>>, "string|nil",
     "CSA case reference."},
    {"compliance_opportunity", entry<field<load_case, &Case::compliance_opportunity>>, "boolean",
     "Undergoing a Segment 5 compliance opportunity."},
};

const Property kClientProperties[] = {
    {"id", entry<object_id<kClientType>>, "integer", "Client id.", true},
    {"name", entry<field<load_client, &Client::name>>, "string", "Full name."},
    {"nino", entry<field<load_client, &Client::nino>>, "string|nil", "National Insurance number."},
    {"dob", entry<field<load_client, &Client::dob>>, "string|nil", "Date of birth."},
    {"employment_status", entry<field<load_client, &Client::employment_status>>, "string|nil",
     "Employment status (employed, self-employed, unemployed), nil when unknown."},
    {"benefit_status", entry<field<load_client, &Client::benefit_status>>, "string|nil",
     "Benefit status from CIS."},
    {"contact_suppressed", entry<field<load_client, &Client::contact_suppressed>>, "boolean",
     "Outbound contact is suppressed."},
    {"deceased", entry<field<load_client, &Client::deceased>>, "boolean", "Recorded as deceased."},
    {"address", entry<p_client_address>, "table|nil",
     "Correspondence address {line1, line2, town, postcode, status}; status is confirmed, "
     "DLO, NFA or JPAC."},
};

const Function kClientMethods[] = {
    {"set_address", entry<m_client_set_address>, "client:set_address{}",
     "Replaces the correspondence address.", Replay::record, kAddressKeys},
    {"set_employment_status", entry<m_client_set<kEmployment, false>>,
     "client:set_employment_status(status|nil)", "Records the employment status."},
    {"set_benefit_status", entry<m_client_set<kBenefit, false>>,
     "client:set_benefit_status(status|nil)", "Records the benefit status."},
    {"set_contact_suppressed", entry<m_client_set<kSuppressed, true>>,
     "client:set_contact_suppressed(boolean)", "Sets or removes contact suppression."},
    {"set_deceased", entry<m_client_set<kDeceased, true>>, "client:set_deceased(boolean)",
     "Records the client as deceased or not."},
};

const Type* const kTypes[] = {&kCasegroupType, &kCaseType, &kClientType};

}  // namespace

const Type kCasegroupType{"Casegroup", "A casegroup: one paying parent and their cases.",
                          kCasegroupMethods, kCasegroupProperties};
const Type kCaseType{"Case", "A case: one receiving parent within a casegroup.", kCaseMethods,
                     kCaseProperties};
const Type kClientType{"Client", "A paying or receiving parent.", kClientMethods,
                       kClientProperties};

const Module kCaseModule{"case", "Casegroups, cases and clients.", kFunctions, kTypes};

}  // namespace casekit::lua
