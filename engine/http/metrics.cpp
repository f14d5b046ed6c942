#include "engine/http/metrics.hpp"

#include <array>
#include <charconv>
#include <sstream>

namespace casekit::http {
namespace {

// A label value with the format's three escapes.
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

// The shortest fixed-point text that reads back as the same double ("0.0005", not
// "0.00050000000000000001" nor "5e-04"). Room for the largest double written out in full.
std::string number(double value) {
  std::array<char, 400> buf{};
  const auto [end, ec] =
      std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::fixed);
  return std::string(buf.data(), end);
}

class Writer {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_ << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
  }
  void sample(const std::string& name, const std::string& labels, double value) {
    out_ << name;
    if (!labels.empty()) out_ << "{" << labels << "}";
    out_ << " " << number(value) << "\n";
  }
  // One sample per row of a query whose last column is the value and whose other columns
  // are the labels named; `bind` binds its parameters.
  template <typename Bind>
  void rows(Database& db, const std::string& name, const std::vector<std::string>& labels,
            const std::string& sql, Bind bind) {
    auto st = db.prepare(sql);
    bind(st);
    const int n = static_cast<int>(labels.size());
    while (st.step()) {
      std::string text;
      for (int i = 0; i < n; ++i) {
        text += (i ? "," : "") + labels[static_cast<std::size_t>(i)] + "=\"" +
                label(st.is_null(i) ? "" : st.text(i)) + "\"";
      }
      sample(name, text, static_cast<double>(st.integer(n)));
    }
  }
  void rows(Database& db, const std::string& name, const std::vector<std::string>& labels,
            const std::string& sql) {
    rows(db, name, labels, sql, [](Statement&) {});
  }
  void histogram(const std::string& name, const std::string& labels, const Histogram& h) {
    const std::string sep = labels.empty() ? "" : labels + ",";
    for (std::size_t i = 0; i < Histogram::kBounds.size(); ++i) {
      sample(name + "_bucket", sep + "le=\"" + number(Histogram::kBounds[i]) + "\"",
             static_cast<double>(h.at_or_under(i)));
    }
    sample(name + "_bucket", sep + "le=\"+Inf\"", static_cast<double>(h.count()));
    sample(name + "_sum", labels, h.sum());
    sample(name + "_count", labels, static_cast<double>(h.count()));
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

}  // namespace

void Metrics::record_request(const std::string& route, const std::string& method, int status,
                             double seconds) {
  ++requests_[{route, method, status}];
  latency_[route].add(seconds);
}

std::string Metrics::scrape(Engine& engine, const ProcedureRuntime& runtime,
                            Schedules& schedules) const {
  Database& db = engine.db;
  const std::string now = format_instant(engine.clock.now());
  const std::string today = format_date(engine.clock.today());
  Writer w;

  w.family("casekit_instances", "gauge", "Procedure instances by procedure and status.");
  w.rows(db, "casekit_instances", {"procedure", "status"},
         "SELECT procedure, status, count(*) FROM instances GROUP BY 1, 2 ORDER BY 1, 2");

  const RuntimeStats& stats = runtime.stats();
  w.family("casekit_activations_total", "counter", "Activations this process has run.");
  w.sample("casekit_activations_total", "", static_cast<double>(stats.activations));
  w.family("casekit_activation_seconds", "histogram", "How long each activation took.");
  w.histogram("casekit_activation_seconds", "", stats.activation_seconds);
  w.family("casekit_replays_total", "counter", "Activations that rebuilt their state by replay.");
  w.sample("casekit_replays_total", "", static_cast<double>(stats.replays));

  w.family("casekit_incidents_open", "gauge", "Incidents not yet retried or cancelled, by kind.");
  w.rows(db, "casekit_incidents_open", {"kind"},
         "SELECT kind, count(*) FROM incidents WHERE resolved_at IS NULL GROUP BY 1 ORDER BY 1");

  {
    auto st = db.prepare(
        "SELECT count(*), min(wake_at) FROM instances WHERE status = 'waiting' "
        "AND wake_at IS NOT NULL AND wake_at <= ?1");
    st.bind(1, now);
    st.step();
    w.family("casekit_timers_due", "gauge", "Timers whose time has come and not yet fired.");
    w.sample("casekit_timers_due", "", static_cast<double>(st.integer(0)));
    const double lag =
        st.is_null(1)
            ? 0.0
            : std::chrono::duration<double>(engine.clock.now() - parse_instant(st.text(1))).count();
    w.family("casekit_timer_lag_seconds", "gauge", "How late the most overdue timer is.");
    w.sample("casekit_timer_lag_seconds", "", lag);
  }

  w.family("casekit_schedule_runs_total", "counter", "Schedule runs by schedule and status.");
  w.rows(db, "casekit_schedule_runs_total", {"schedule", "status"},
         "SELECT IFNULL(schedule, script), status, count(*) FROM runs GROUP BY 1, 2 "
         "ORDER BY 1, 2");

  {
    // The import runs in a process of its own (casekit import dw) and records its progress
    // on its run; this reads the newest one still running.
    const std::optional<Run> import = schedules.newest_running("import dw");
    const double read = import ? static_cast<double>(import->rows_read.value_or(0)) : 0;
    const double rate = import ? rows_per_second(*import).value_or(0) : 0;
    w.family("casekit_import_rows_read", "gauge",
             "Rows the running Data Warehouse import has taken in; 0 when none runs.");
    w.sample("casekit_import_rows_read", "", read);
    w.family("casekit_import_rows_per_second", "gauge",
             "The running Data Warehouse import's rows a second since it began; 0 when none "
             "runs.");
    w.sample("casekit_import_rows_per_second", "", rate);
  }

  w.family("casekit_work_items_open", "gauge", "Open work items by inbox.");
  w.rows(db, "casekit_work_items_open", {"inbox"},
         "SELECT inbox, sum(n) FROM work_item_counts WHERE status = 'open' GROUP BY 1 "
         "ORDER BY 1");
  w.family("casekit_work_items_overdue", "gauge", "Open work items past their due date by inbox.");
  w.rows(db, "casekit_work_items_overdue", {"inbox"},
         "SELECT inbox, count(*) FROM work_items WHERE status = 'open' AND "
         "IFNULL(due_date, '9999-12-31') < ?1 GROUP BY 1 ORDER BY 1",
         [&](Statement& st) { st.bind(1, today); });

  w.family("casekit_letters", "gauge", "Letters by status.");
  w.rows(db, "casekit_letters", {"status"},
         "SELECT status, count(*) FROM letters GROUP BY 1 ORDER BY 1");

  w.family("casekit_http_requests_total", "counter", "HTTP requests by route, method and status.");
  for (const auto& [key, count] : requests_) {
    const auto& [route, method, status] = key;
    w.sample("casekit_http_requests_total",
             "route=\"" + label(route) + "\",method=\"" + label(method) + "\",status=\"" +
                 std::to_string(status) + "\"",
             static_cast<double>(count));
  }
  w.family("casekit_http_request_seconds", "histogram", "HTTP request latency by route.");
  for (const auto& [route, h] : latency_) {
    w.histogram("casekit_http_request_seconds", "route=\"" + label(route) + "\"", h);
  }

  w.family("casekit_logins_refused_total", "counter",
           "Logins this process refused (wrong password, unknown or locked user).");
  w.sample("casekit_logins_refused_total", "", static_cast<double>(logins_refused_));
  w.family("casekit_accounts_locked", "gauge", "Accounts locked now after failed logins.");
  w.rows(db, "casekit_accounts_locked", {},
         "SELECT count(*) FROM user_credentials WHERE locked_until > ?1",
         [&](Statement& st) { st.bind(1, now); });
  return w.str();
}

namespace {

std::int64_t hour_of(Instant t) {
  return std::chrono::floor<std::chrono::hours>(t).time_since_epoch().count();
}

}  // namespace

void Metrics::sample_activations(Instant now, std::uint64_t total) {
  if (total > activations_seen_) activations_by_hour_[hour_of(now)] += total - activations_seen_;
  activations_seen_ = total;
  // A day is all the chart shows.
  while (!activations_by_hour_.empty() && activations_by_hour_.begin()->first < hour_of(now) - 23) {
    activations_by_hour_.erase(activations_by_hour_.begin());
  }
}

nlohmann::json Metrics::activity(Engine& engine, Instant now) const {
  const std::int64_t last = hour_of(now);
  const auto start = Instant(std::chrono::hours(last - 23));
  std::map<std::int64_t, std::int64_t> incidents;
  auto st = engine.db.prepare(
      "SELECT substr(created_at, 1, 13), count(*) FROM incidents WHERE created_at >= ?1 "
      "GROUP BY 1");
  st.bind_all(format_instant(start));
  while (st.step()) {
    incidents[hour_of(parse_instant(st.text(0) + ":00:00Z"))] = st.integer(1);
  }
  nlohmann::json hours = nlohmann::json::array();
  for (std::int64_t h = last - 23; h <= last; ++h) {
    const auto a = activations_by_hour_.find(h);
    const auto i = incidents.find(h);
    hours.push_back({{"hour", format_instant(Instant(std::chrono::hours(h)))},
                     {"activations", a == activations_by_hour_.end() ? 0 : a->second},
                     {"incidents", i == incidents.end() ? 0 : i->second}});
  }
  return hours;
}

}  // namespace casekit::http
