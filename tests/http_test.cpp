// The HTTP API over loopback: a real HttpServer on 127.0.0.1 and an ephemeral port, its loop
// on a thread of its own, and a plain Beast client. Each way in that must be refused is
// tried, and what it must not change is checked.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <future>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "engine/core/temp_folder.hpp"
#include "engine/http/service.hpp"
#include "tests/cli_support.hpp"
#include "tests/durable_support.hpp"

namespace casekit::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr const char* kPassword = "correct horse battery";

// Prepared by a caseworker, approved by a team leader who did not prepare it: the shape of
// the write-off reversal's approval (source 004), on an SR the Arrears team owns.
constexpr const char* kApproval = R"lua(
return procedure {
  name = "approval",
  run = function(ctx)
    local s = sr.create{casegroup = ctx.casegroup, process = "Arrears",
                        area = "Arrears management", sub_area = "Reverse write off arrears"}
    task.await{inbox = "caseworker", title = "Prepare the reversal", outcomes = {"submitted"},
               fields = {"journal"}, required = {"journal"}, sr = s, due_in_days = 2}
    local d = task.await{inbox = "team_leader", kind = "approval", title = "Approve",
                         outcomes = {"approved", "rejected"}, fields = {"reason"},
                         required = {rejected = {"reason"}}, sr = s,
                         submitted_by = ctx.params.submitter}
    s:set_status("Closed")
    return d.outcome
  end,
}
)lua";

struct Reply {
  int status = 0;
  nlohmann::json body;
  std::string text;
  std::string content_type;
  std::string set_cookie;
  std::string retry_after;
  std::map<std::string, std::string> headers;  // every header, by its name in lower case

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  std::string code() const { return body.contains("error") ? body["error"].value("code", "") : ""; }
  std::string message() const {
    return body.contains("error") ? body["error"].value("message", "") : "";
  }
};

struct Client {
  explicit Client(unsigned short p) : port(p) {}
  unsigned short port;
  std::string cookie;  // "casekit_session=..."
  std::string csrf;
  std::string bearer;
  std::string from;  // a loopback address of our own to connect from (the login throttle's key)

  Reply send(const std::string& method, const std::string& target, const std::string& body = "",
             const std::vector<std::pair<std::string, std::string>>& headers = {}) const {
    asio::io_context io;
    tcp::socket socket(io);
    if (!from.empty()) {
      socket.open(tcp::v4());
      socket.bind({asio::ip::make_address(from), 0});
    }
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    if (!cookie.empty()) req.set(bhttp::field::cookie, cookie);
    if (!csrf.empty()) req.set("X-CSRF-Token", csrf);
    if (!bearer.empty()) req.set(bhttp::field::authorization, "Bearer " + bearer);
    if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
    for (const auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    req.keep_alive(false);
    req.prepare_payload();
    bhttp::write(socket, req);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 << 20);
    bhttp::read(socket, buffer, parser);
    const auto& res = parser.get();
    Reply r;
    r.status = res.result_int();
    r.text = res.body();
    r.content_type = std::string(res[bhttp::field::content_type]);
    r.set_cookie = std::string(res[bhttp::field::set_cookie]);
    r.retry_after = std::string(res[bhttp::field::retry_after]);
    for (const auto& field : res) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      r.headers[name] = std::string(field.value());
    }
    if (r.content_type.rfind("application/json", 0) == 0) r.body = nlohmann::json::parse(r.text);
    return r;
  }
  Reply get(const std::string& target) const { return send("GET", target); }
  Reply post(const std::string& target,
             const nlohmann::json& body = nlohmann::json::object()) const {
    return send("POST", target, body.dump());
  }
};

// Raw bytes to the server, then whatever comes back until it closes.
std::string raw(unsigned short port, const std::string& bytes) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(socket, asio::buffer(bytes));
  std::string out;
  beast::error_code ec;
  std::array<char, 4096> buf{};
  for (;;) {
    const std::size_t n = socket.read_some(asio::buffer(buf), ec);
    if (ec) break;
    out.append(buf.data(), n);
  }
  return out;
}

struct HttpWorld {
  // Runs f on the server's thread, between requests, and waits for what it returns.
  template <typename F>
  auto on_server(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io, [&task] { task(); });
    return result.get();
  }

  explicit HttpWorld(http::ServiceOptions o = {}) {
    o.listen = "127.0.0.1:0";
    service = std::make_unique<http::Service>(io, t.engine, t.runtime, schedules, o);
    service->start();
    port = service->local_endpoint().port();
  }
  ~HttpWorld() {
    if (thread.joinable()) {
      on_server([this] {
        service->stop();
        return 0;
      });
      io.stop();
      thread.join();
    }
  }

  User user(const std::string& name, const std::string& role,
            const std::optional<std::string>& team = std::nullopt) {
    User u = t.engine.users.add(name, role, team);
    t.engine.accounts.set_password(name, kPassword);
    return u;
  }
  // Serves from here on; before it, the test thread has the engine to itself.
  void run() {
    thread = std::thread([this] { io.run(); });
  }
  std::int64_t rows(const std::string& table) {
    return on_server([this, table] { return t.count("SELECT count(*) FROM " + table); });
  }
  Client login(const std::string& name) {
    Client c(port);
    const Reply r = c.post("/api/v1/login", {{"name", name}, {"password", kPassword}});
    REQUIRE(r.status == 200);
    c.cookie = r.set_cookie.substr(0, r.set_cookie.find(';'));
    c.csrf = r.body["csrf_token"];
    return c;
  }
  Client bearer(const std::string& name) {
    Client c(port);
    const Reply r =
        c.post("/api/v1/login", {{"name", name}, {"password", kPassword}, {"bearer", true}});
    REQUIRE(r.status == 200);
    c.bearer = r.body["token"];
    return c;
  }

  std::size_t checks_started() {
    return on_server([this] { return service->passwords().started(); });
  }
  std::size_t checks_in_flight() {
    return on_server([this] { return service->passwords().in_flight(); });
  }

  DurableEngine t;
  Schedules schedules{
      t.engine,
      load_schedules(t.engine.home.scripts() / "schedules.toml", t.engine.home.scripts()),
      {},
      &t.runtime};
  asio::io_context io;
  std::unique_ptr<http::Service> service;
  std::thread thread;
  unsigned short port = 0;
};

}  // namespace

TEST_CASE("http: /healthz and /readyz answer, and errors are JSON with their status") {
  HttpWorld w;
  w.run();
  Client c(w.port);
  const Reply health = c.get("/healthz");
  CHECK(health.status == 200);
  CHECK(health.body["status"] == "ok");
  const Reply ready = c.get("/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.body["status"] == "ready");

  const Reply unknown = c.get("/api/v1/nothing-here");
  CHECK(unknown.status == 404);
  CHECK(unknown.code() == "NOT_FOUND");
  CHECK(unknown.content_type == "application/json");
  const Reply method = c.send("DELETE", "/healthz");
  CHECK(method.status == 405);
  CHECK(method.code() == "METHOD_NOT_ALLOWED");
  for (const char* climb : {"/api/v1/../healthz", "/api/v1/%2e%2e/healthz", "/api//me"}) {
    INFO(climb);
    const Reply r = c.get(climb);
    CHECK(r.status == 400);
    CHECK(r.code() == "BAD_PATH");
  }
  CHECK(c.get("/healthz?x=%zz").status == 400);
}

TEST_CASE("http: /readyz is 503 when the database is behind this build's schema") {
  HttpWorld w;
  w.t.db.exec("PRAGMA user_version = 1");
  w.run();
  const Reply r = Client(w.port).get("/readyz");
  CHECK(r.status == 503);
  CHECK(r.code() == "SCHEMA");
}

TEST_CASE("http: login sets an HttpOnly SameSite=Strict cookie, then me and logout") {
  HttpWorld w;
  w.user("carl", "caseworker", std::string("Arrears"));
  w.run();
  Client anon(w.port);
  const Reply before = anon.get("/api/v1/me");
  CHECK(before.status == 401);
  CHECK(before.code() == "UNAUTHENTICATED");

  Client c(w.port);
  const Reply r = c.post("/api/v1/login", {{"name", "carl"}, {"password", kPassword}});
  REQUIRE(r.status == 200);
  CHECK(r.set_cookie.rfind("casekit_session=", 0) == 0);
  CHECK(r.set_cookie.find("; HttpOnly") != std::string::npos);
  CHECK(r.set_cookie.find("; SameSite=Strict") != std::string::npos);
  CHECK(r.set_cookie.find("; Path=/") != std::string::npos);
  CHECK(r.set_cookie.find("Secure") == std::string::npos);
  CHECK(r.body["user"] ==
        nlohmann::json({{"name", "carl"}, {"role", "caseworker"}, {"team", "Arrears"}}));
  CHECK(r.body["csrf_token"].get<std::string>().size() == 64);
  CHECK_FALSE(r.body.contains("token"));  // without bearer, the token is in the cookie only
  c.cookie = r.set_cookie.substr(0, r.set_cookie.find(';'));
  c.csrf = r.body["csrf_token"];

  const Reply me = c.get("/api/v1/me");
  REQUIRE(me.status == 200);
  CHECK(me.body["user"]["name"] == "carl");
  CHECK(me.body["user"]["team"] == "Arrears");

  // Neither token is stored as given: only their hashes are.
  const std::string token = c.cookie.substr(c.cookie.find('=') + 1);
  CHECK(w.on_server([&] {
    return w.t.count("SELECT count(*) FROM sessions WHERE token_hash = '" + token +
                     "' OR csrf_hash = '" + c.csrf + "'");
  }) == 0);

  const Reply out = c.post("/api/v1/logout");
  CHECK(out.status == 204);
  CHECK(out.set_cookie.find("Max-Age=0") != std::string::npos);
  const Reply after = c.get("/api/v1/me");
  CHECK(after.status == 401);
  CHECK(after.code() == "UNAUTHENTICATED");
}

TEST_CASE("http: the cookie is Secure when the service says it is behind TLS") {
  http::ServiceOptions o;
  o.secure_cookie = true;
  HttpWorld w(o);
  w.user("carl", "caseworker");
  w.run();
  const Reply r = Client(w.port).post("/api/v1/login", {{"name", "carl"}, {"password", kPassword}});
  REQUIRE(r.status == 200);
  CHECK(r.set_cookie.find("; Secure") != std::string::npos);
}

TEST_CASE("http: a bearer token is given only when asked, and needs no CSRF token") {
  HttpWorld w;
  w.user("erin", "team_leader", "Arrears");
  w.run();
  Client api = w.bearer("erin");
  CHECK(api.get("/api/v1/me").body["user"]["role"] == "team_leader");
  CHECK(api.post("/api/v1/logout").status == 204);
  CHECK(api.get("/api/v1/me").status == 401);
  CHECK(Client(w.port)
            .post("/api/v1/login", {{"name", "erin"}, {"password", kPassword}, {"bearer", "yes"}})
            .status == 400);
}

TEST_CASE("http: a state change by cookie needs its own session's X-CSRF-Token") {
  HttpWorld w;
  w.user("carl", "caseworker");
  w.user("tina", "team_leader");
  w.run();
  Client carl = w.login("carl");
  const Client tina = w.login("tina");
  const std::string session_token = carl.cookie.substr(carl.cookie.find('=') + 1);
  const std::string own = carl.csrf;

  struct Attempt {
    const char* what;
    std::string csrf;
  };
  for (const Attempt& a : {Attempt{"no token", ""}, Attempt{"another session's token", tina.csrf},
                           Attempt{"the session token itself", session_token},
                           Attempt{"a made-up token", std::string(64, 'a')}}) {
    INFO(a.what);
    carl.csrf = a.csrf;
    const Reply r = carl.post("/api/v1/logout");
    CHECK(r.status == 403);
    CHECK(r.code() == "CSRF");
    CHECK(carl.get("/api/v1/me").status == 200);  // the session is still live
  }
  carl.csrf = own;
  CHECK(carl.post("/api/v1/logout").status == 204);
  CHECK(tina.get("/api/v1/me").status == 200);  // only carl's session ended
}

TEST_CASE("http: expired, revoked and disabled users' sessions are refused") {
  HttpWorld w;
  w.user("carl", "caseworker");
  w.user("dora", "caseworker");
  w.user("erin", "caseworker");
  w.run();
  Client carl = w.login("carl");
  Client dora = w.bearer("dora");
  Client erin = w.login("erin");

  // A new password ends every session the user had.
  w.on_server([&] {
    w.t.engine.accounts.set_password("dora", "another long passphrase");
    return 0;
  });
  CHECK(dora.get("/api/v1/me").status == 401);
  // Disabling a user ends theirs.
  w.on_server([&] {
    w.t.engine.accounts.disable("erin");
    return 0;
  });
  CHECK(erin.get("/api/v1/me").status == 401);
  // Past the session's 8 hours, it is over.
  CHECK(carl.get("/api/v1/me").status == 200);
  w.on_server([&] {
    w.t.clock.set(w.t.clock.now() + 8h + 1s);
    return 0;
  });
  const Reply r = carl.get("/api/v1/me");
  CHECK(r.status == 401);
  CHECK(r.code() == "UNAUTHENTICATED");
}

TEST_CASE("http: a refused login is one 401 whatever the reason, and costs one password check") {
  HttpWorld w;
  w.user("carl", "caseworker");
  w.user("gone", "caseworker");
  w.user("locky", "caseworker");
  w.t.engine.users.add("nopass", "caseworker");
  w.t.engine.accounts.disable("gone");
  for (int i = 0; i < 5; ++i) w.t.engine.accounts.login("locky", "a wrong guess each time");
  w.run();
  Client c(w.port);
  std::set<std::string> bodies;
  for (const auto& [name, password] : std::vector<std::pair<std::string, std::string>>{
           {"nobody", kPassword},                   // an unknown name
           {"nopass", kPassword},                   // a user with no password yet
           {"gone", kPassword},                     // a disabled user, right password
           {"locky", kPassword},                    // a locked user, right password
           {"carl", "not the password at all"}}) {  // a wrong password
    INFO(name);
    const auto checks = w.checks_started();
    const Reply r = c.post("/api/v1/login", {{"name", name}, {"password", password}});
    CHECK(r.status == 401);
    CHECK(r.code() == "LOGIN_REFUSED");
    bodies.insert(r.text);
    CHECK(w.checks_started() == checks + 1);
  }
  CHECK(bodies.size() == 1);
  CHECK(w.rows("sessions") == 0);
}

TEST_CASE("http: logins beyond the hashing cap get 429 with Retry-After, and nothing else waits") {
  SECTION("at the cap, a login is turned away at once") {
    http::ServiceOptions o;
    o.max_hashes = 0;
    HttpWorld w(o);
    w.user("carl", "caseworker");
    w.run();
    const Reply r =
        Client(w.port).post("/api/v1/login", {{"name", "carl"}, {"password", kPassword}});
    CHECK(r.status == 429);
    CHECK(r.code() == "TOO_MANY_LOGINS");
    CHECK(r.retry_after == "1");
    CHECK(w.rows("sessions") == 0);
  }
  SECTION("while logins are being hashed, the loop answers other requests") {
    http::ServiceOptions o;
    o.max_hashes = 16;
    HttpWorld w(o);
    w.user("carl", "caseworker");
    w.run();
    std::vector<std::future<int>> logins;
    for (int i = 0; i < 16; ++i) {
      logins.push_back(std::async(std::launch::async, [&] {
        return Client(w.port)
            .post("/api/v1/login", {{"name", "carl"}, {"password", kPassword}})
            .status;
      }));
    }
    // Once a good number are queued (16 checks on 2 threads take several hundred ms)...
    for (int i = 0; i < 2000 && w.checks_in_flight() < 8; ++i) {
      std::this_thread::sleep_for(1ms);
    }
    CHECK(Client(w.port).get("/healthz").status == 200);
    // ...the health check was answered while hashes were still queued behind it.
    CHECK(w.checks_in_flight() > 0);
    int ok = 0;
    for (auto& f : logins) ok += f.get() == 200;
    CHECK(ok == 16);
  }
}

TEST_CASE("http: bad requests get their status and a JSON error, and the server goes on") {
  http::ServiceOptions o;
  o.limits.read_timeout = 300ms;
  HttpWorld w(o);
  w.user("carl", "caseworker");
  w.run();
  Client c(w.port);

  const Reply malformed = c.send("POST", "/api/v1/login", "{\"name\": ");
  CHECK(malformed.status == 400);
  CHECK(malformed.code() == "BAD_JSON");
  CHECK(c.send("POST", "/api/v1/login", "[1, 2]").code() == "BAD_JSON");
  const Reply form = c.send("POST", "/api/v1/login", "name=carl",
                            {{"Content-Type", "application/x-www-form-urlencoded"}});
  CHECK(form.status == 415);
  CHECK(form.code() == "UNSUPPORTED_MEDIA_TYPE");
  const Reply wrong_type = c.post("/api/v1/login", {{"name", 7}, {"password", kPassword}});
  CHECK(wrong_type.status == 400);
  const Reply missing = c.post("/api/v1/login", {{"name", "carl"}});
  CHECK(missing.status == 400);
  CHECK_THAT(missing.message(), Catch::Contains("password is required"));

  const Reply big = c.send("POST", "/api/v1/login", "\"" + std::string(65 << 10, 'x') + "\"");
  CHECK(big.status == 413);
  CHECK(big.code() == "TOO_LARGE");
  const Reply headers = c.send("GET", "/healthz", "", {{"X-Padding", std::string(9 << 10, 'x')}});
  CHECK(headers.status == 431);
  CHECK(headers.code() == "HEADERS_TOO_LARGE");

  // A client that sends half its headers and then nothing is cut off at the read timeout.
  const auto started = std::chrono::steady_clock::now();
  const std::string slow = raw(w.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
  CHECK(slow.empty());
  CHECK(std::chrono::steady_clock::now() - started < 5s);

  const std::string garbage = raw(w.port, "NOT HTTP AT ALL\r\n\r\n");
  CHECK(garbage.find("400") != std::string::npos);
  CHECK(garbage.find("\"code\":\"BAD_REQUEST\"") != std::string::npos);

  CHECK(c.get("/healthz").status == 200);
}

TEST_CASE("http: connections beyond the cap are refused with 503, and the server goes on") {
  http::ServiceOptions o;
  o.limits.max_connections = 20;
  HttpWorld w(o);
  w.run();
  asio::io_context io;
  std::vector<tcp::socket> held;
  for (int i = 0; i < 20; ++i) {
    held.emplace_back(io);
    held.back().connect({asio::ip::make_address("127.0.0.1"), w.port});
  }
  for (int i = 0; i < 200 && w.on_server([&] { return w.service->server().connections(); }) < 20;
       ++i) {
    std::this_thread::sleep_for(5ms);
  }
  const std::string refused = raw(w.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(refused.find("503") != std::string::npos);
  CHECK(refused.find("\"code\":\"BUSY\"") != std::string::npos);
  held.clear();
  for (int i = 0; i < 200 && w.on_server([&] { return w.service->server().connections(); }) > 0;
       ++i) {
    std::this_thread::sleep_for(5ms);
  }
  CHECK(Client(w.port).get("/healthz").status == 200);
}

TEST_CASE("http: addresses to listen on") {
  CHECK(http::parse_endpoint("127.0.0.1:8080").port() == 8080);
  CHECK(http::parse_endpoint("8081").address().to_string() == "127.0.0.1");
  CHECK(http::parse_endpoint("[::1]:0").address().to_string() == "::1");
  CHECK_THROWS_WITH(http::parse_endpoint("127.0.0.1:http"), Catch::Contains("not a port"));
  CHECK_THROWS_WITH(http::parse_endpoint("example:80"), Catch::Contains("not an IP address"));
}

TEST_CASE("http: docs/http-api.md lists every route, and only those") {
  HttpWorld w;
  const std::string doc = slurp(kSourceDir / "docs" / "http-api.md");
  std::set<std::string> documented;
  const std::regex heading("### (GET|POST|PUT|PATCH|DELETE) (/\\S*)");
  std::istringstream lines(doc);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_match(line, m, heading)) documented.insert(m[1].str() + " " + m[2].str());
  }
  REQUIRE(documented.size() >= 5);
  std::set<std::string> routed;
  for (const auto& r : w.service->router().routes()) routed.insert(r.method + " " + r.pattern);
  CHECK(documented == routed);
}

}  // namespace casekit::test

namespace casekit::test {

// The real program: `serve --http` on a free port answers, and SIGTERM ends it with 0.
TEST_CASE("http: casekit serve --http answers, and SIGTERM stops it cleanly") {
  Cli cli;
  REQUIRE(cli.run("init").status == 0);
  ServeProcess serve(cli);
  const unsigned short port = serve.port();
  INFO(serve.err());
  REQUIRE(port != 0);
  CHECK(Client(port).get("/healthz").status == 200);
  CHECK(Client(port).get("/readyz").status == 200);
  CHECK(Client(port).post("/api/v1/login", {{"name", "nobody"}, {"password", kPassword}}).status ==
        401);
  CHECK(serve.stop(SIGTERM) == 0);
  // One access line per answer: the route's pattern and status, never the password.
  const std::string log = serve.err();
  CHECK(log.find(R"("route":"/api/v1/login","status":401)") != std::string::npos);
  CHECK(log.find(kPassword) == std::string::npos);
}

}  // namespace casekit::test

namespace casekit::test {
namespace {

// A world with the approval procedure and users of two teams:
// carl, dave (caseworkers) and tina, tom (team leaders) in Arrears; cass (caseworker) and
// eve (team leader) in Enforcement; olga, an operator.
struct WorkWorld : HttpWorld {
  explicit WorkWorld(http::ServiceOptions o = {}) : HttpWorld(std::move(o)) {
    t.procedure("approval", kApproval);
    user("carl", "caseworker", "Arrears");
    user("dave", "caseworker", "Arrears");
    user("tina", "team_leader", "Arrears");
    user("tom", "team_leader", "Arrears");
    user("cass", "caseworker", "Enforcement");
    user("eve", "team_leader", "Enforcement");
    user("olga", "operator");
  }
  // Starts an approval on a casegroup of its own, before the server runs; the instance id.
  Id start(const std::string& submitter = "") {
    const auto f = t.family("CSA-" + std::to_string(1000000 + ++casegroups));
    std::map<std::string, std::string> params;
    if (!submitter.empty()) params["submitter"] = submitter;
    return t.runtime.start("approval", f.casegroup, params, "carl");
  }
  // What a refusal must leave as it was.
  std::string state() {
    return on_server([this] {
      return t.dump("work_items") + t.dump("instances") + t.dump("instance_activations") +
             std::to_string(t.count("SELECT count(*) FROM audit"));
    });
  }
  int casegroups = 0;
};

std::vector<Id> ids(const Reply& r) {
  std::vector<Id> out;
  for (const auto& i : r.body["items"]) out.push_back(i["id"].get<Id>());
  return out;
}

}  // namespace

TEST_CASE("http: work items are listed for whoever may work them, a page at a time") {
  WorkWorld w;
  for (int i = 0; i < 3; ++i) w.start();  // items 1-3: caseworker, Arrears
  w.run();
  Client carl = w.login("carl");
  const Reply all = carl.get("/api/v1/work-items?inbox=caseworker");
  REQUIRE(all.status == 200);
  CHECK(ids(all) == std::vector<Id>{1, 2, 3});
  CHECK(all.body["total"] == 3);
  CHECK(all.body["next_cursor"].is_null());
  const auto& first = all.body["items"][0];
  CHECK(first["inbox"] == "caseworker");
  CHECK(first["title"] == "Prepare the reversal");
  CHECK(first["outcomes"] == nlohmann::json::array({"submitted"}));
  CHECK(first["requires"]["submitted"] == nlohmann::json::array({"journal"}));
  CHECK(first["due"] == "2026-11-22");
  CHECK(first["overdue"] == false);
  CHECK(first["team"] == "Arrears");
  CHECK(first["status"] == "open");
  CHECK(first["sr"] == 1);
  CHECK(first["casegroup"].is_number());
  CHECK(first["instance"] == 1);
  CHECK(first["assignee"].is_null());

  // Paging by cursor holds still while items are added.
  const Reply page1 = carl.get("/api/v1/work-items?limit=2");
  CHECK(ids(page1) == std::vector<Id>{1, 2});
  CHECK(page1.body["total"] == 3);
  w.on_server([&] { return w.start(); });  // item 4, due the same day
  const Reply page2 =
      carl.get("/api/v1/work-items?limit=2&cursor=" + page1.body["next_cursor"].get<std::string>());
  CHECK(ids(page2) == std::vector<Id>{3, 4});
  CHECK(page2.body["total"] == 4);
  CHECK(ids(carl.get("/api/v1/work-items?sort=created&limit=3")) == std::vector<Id>{1, 2, 3});

  // Filters.
  CHECK(ids(carl.get("/api/v1/work-items?sr=2")) == std::vector<Id>{2});
  CHECK(ids(carl.get("/api/v1/work-items?assignee=none")).size() == 4);
  CHECK(ids(carl.get("/api/v1/work-items?assignee=me")).empty());
  CHECK(ids(carl.get("/api/v1/work-items?status=completed")).empty());
  CHECK(ids(carl.get("/api/v1/work-items?overdue=true")).empty());
  w.on_server([&] {
    w.t.clock.set(w.t.clock.now() + 72h);
    return 0;
  });
  carl = w.login("carl");  // three days on, the first session is long over
  CHECK(ids(carl.get("/api/v1/work-items?overdue=true")).size() == 4);
  CHECK(carl.get("/api/v1/work-items/1").body["overdue"] == true);
  // Text that looks like SQL is only text.
  const Reply sql = carl.get("/api/v1/work-items?kind=x%27%20OR%201%3D1%20--");
  CHECK(sql.status == 200);
  CHECK(ids(sql).empty());
  for (const char* bad : {"?limit=0", "?limit=abc", "?status=done", "?sort=name", "?cursor=1;2",
                          "?overdue=yes", "?colour=red"}) {
    INFO(bad);
    const Reply r = carl.get(std::string("/api/v1/work-items") + bad);
    CHECK(r.status == 400);
    CHECK(r.code() == "BAD_ARGUMENT");
  }

  // Another team's caseworker sees none of it, and an id of it is unknown to them.
  const Client cass = w.login("cass");
  CHECK(cass.get("/api/v1/work-items").body["total"] == 0);
  CHECK(cass.get("/api/v1/work-items/1").status == 404);
  // Nor does a caseworker in no team: a team's items are for its members.
  w.on_server([&] { return w.user("nina", "caseworker").id; });
  const Client nina = w.login("nina");
  CHECK(nina.get("/api/v1/work-items").body["total"] == 0);
  CHECK(nina.get("/api/v1/work-items?kind=" + first["kind"].get<std::string>()).body["total"] == 0);
  CHECK(nina.get("/api/v1/work-items/1").status == 404);
  CHECK(nina.post("/api/v1/work-items/1/claim").status == 404);
  // An operator sees every item.
  CHECK(w.login("olga").get("/api/v1/work-items").body["total"] == 4);
  CHECK(Client(w.port).get("/api/v1/work-items").status == 401);
}

TEST_CASE("http: completing an item resumes the procedure and says what it did next") {
  WorkWorld w;
  const Id instance = w.start();
  w.run();
  const Client carl = w.login("carl");
  const Reply done = carl.post("/api/v1/work-items/1/complete",
                               {{"outcome", "submitted"}, {"fields", {{"journal", "J-1"}}}});
  REQUIRE(done.status == 200);
  CHECK(done.body["item"]["status"] == "completed");
  CHECK(done.body["item"]["completed_by"] == "carl");
  CHECK(done.body["next"]["instance"]["status"] == "waiting");
  CHECK(done.body["next"]["sr"]["id"] == 1);
  // The approval it made is a team leader's: not listed to carl, but to tina.
  CHECK(done.body["next"]["work_items"].empty());
  CHECK(ids(carl.get("/api/v1/work-items")).empty());  // the completed item is gone at once
  const Client tina = w.login("tina");
  const Reply approvals = tina.get("/api/v1/work-items?inbox=team_leader");
  REQUIRE(ids(approvals) == std::vector<Id>{2});
  CHECK(approvals.body["items"][0]["submitted_by"] == "carl");
  CHECK(approvals.body["items"][0]["requires"]["rejected"] == nlohmann::json::array({"reason"}));

  const Reply approved = tina.post("/api/v1/work-items/2/complete", {{"outcome", "approved"}});
  REQUIRE(approved.status == 200);
  CHECK(approved.body["next"]["sr"]["status"] == "Closed");
  CHECK(approved.body["next"]["instance"]["status"] == "completed");
  CHECK(w.on_server([&] { return w.t.instance(instance).status; }) == "completed");
  // The audit names the signed-in user for what they changed, and the route they changed it
  // by; what the procedure did when it resumed, by the script line and call.
  CHECK(w.on_server([&] {
    return w.t.count(
        "SELECT count(*) FROM audit WHERE entity = 'work_items' AND "
        "actor = 'user:tina' AND why = 'POST /api/v1/work-items/{id}/complete'");
  }) >= 1);
  CHECK(w.on_server([&] {
    return w.t.count(
        "SELECT count(*) FROM audit WHERE entity = 'service_requests' AND action = 'update' "
        "AND after LIKE '%\"Closed\"%' AND why LIKE 'procedures/%.lua:% SR:set_status'");
  }) == 1);
}

TEST_CASE("http: every way in that must be refused is refused, and changes nothing") {
  WorkWorld w;
  w.start();        // instance 1: item 1 (caseworker), then 3 (approval, submitted by carl)
  w.start("Tina");  // instance 2: item 2, then 4 (an approval submitted by "Tina")
  w.run();
  const Client tina = w.login("tina");
  REQUIRE(w.login("carl")
              .post("/api/v1/work-items/1/complete",
                    {{"outcome", "submitted"}, {"fields", {{"journal", "J-1"}}}})
              .status == 200);
  // tina prepares the second request herself, then is its submitter.
  REQUIRE(tina.post("/api/v1/work-items/2/complete",
                    {{"outcome", "submitted"}, {"fields", {{"journal", "J-2"}}}})
              .status == 200);
  const std::string before = w.state();

  struct Attempt {
    const char* what;
    Client client;
    std::string item;
    nlohmann::json body;
    int status;
    const char* code;
  };
  const std::vector<Attempt> attempts = {
      {"a caseworker completing a team leader's item",
       w.login("carl"),
       "3",
       {{"outcome", "approved"}},
       404,
       "NOT_FOUND"},
      {"a team leader completing another team's item",
       w.login("eve"),
       "3",
       {{"outcome", "approved"}},
       404,
       "NOT_FOUND"},
      {"an operator completing an inbox not open to operators",
       w.login("olga"),
       "3",
       {{"outcome", "approved"}},
       403,
       "FORBIDDEN"},
      {"the submitter approving her own request",
       tina,
       "4",
       {{"outcome", "approved"}},
       403,
       "FORBIDDEN"},
      {"a body that names another user",
       w.login("tom"),
       "3",
       {{"outcome", "approved"}, {"as", "tina"}},
       400,
       "BAD_ARGUMENT"},
      {"a body that names another completer",
       w.login("tom"),
       "3",
       {{"outcome", "approved"}, {"by", "tina"}},
       400,
       "BAD_ARGUMENT"},
      {"an outcome the item does not have",
       w.login("tom"),
       "3",
       {{"outcome", "maybe"}},
       400,
       "BAD_ARGUMENT"},
      {"a missing required field",
       w.login("tom"),
       "3",
       {{"outcome", "rejected"}},
       400,
       "BAD_ARGUMENT"},
      {"an unknown item", w.login("tom"), "99", {{"outcome", "approved"}}, 404, "NOT_FOUND"},
      {"an id that is not one", w.login("tom"), "3x", {{"outcome", "approved"}}, 404, "NOT_FOUND"},
      {"a completed item", w.login("tom"), "1", {{"outcome", "submitted"}}, 409, "CONFLICT"},
  };
  for (const auto& a : attempts) {
    INFO(a.what);
    const Reply r = a.client.post("/api/v1/work-items/" + a.item + "/complete", a.body);
    CHECK(r.status == a.status);
    CHECK(r.code() == a.code);
    CHECK(w.state() == before);
  }
  // "Tina" submitted item 4; tina may not approve it, and tom may.
  CHECK(w.login("tom").post("/api/v1/work-items/4/complete", {{"outcome", "approved"}}).status ==
        200);
}

TEST_CASE("http: two completions of one item at once: one 200, one 409, one resume") {
  WorkWorld w;
  const Id instance = w.start();
  w.run();
  const Client carl = w.login("carl");
  const Client dave = w.login("dave");
  const nlohmann::json body = {{"outcome", "submitted"}, {"fields", {{"journal", "J-1"}}}};
  auto a = std::async(std::launch::async,
                      [&] { return carl.post("/api/v1/work-items/1/complete", body).status; });
  auto b = std::async(std::launch::async,
                      [&] { return dave.post("/api/v1/work-items/1/complete", body).status; });
  std::multiset<int> statuses{a.get(), b.get()};
  CHECK(statuses == std::multiset<int>{200, 409});
  // The instance moved on once: one approval item, one resolved task wait in its history.
  CHECK(w.rows("work_items WHERE inbox = 'team_leader'") == 1);
  const auto awaits = w.on_server([&w, instance] {
    std::int64_t n = 0;
    for (const auto& c : w.t.runtime.store().history(instance)) n += c.name == "task.await";
    return n;
  });
  CHECK(awaits == 2);
}

TEST_CASE("http: claim, release and assign, with assign as a compare-and-set") {
  WorkWorld w;
  w.start();
  w.run();
  const Client carl = w.login("carl");
  const Client dave = w.login("dave");
  const Client tina = w.login("tina");
  const Client tom = w.login("tom");
  const Reply claimed = carl.post("/api/v1/work-items/1/claim");
  REQUIRE(claimed.status == 200);
  CHECK(claimed.body["assignee"] == "carl");
  CHECK(dave.post("/api/v1/work-items/1/claim").code() == "CONFLICT");
  CHECK(dave.post("/api/v1/work-items/1/complete",
                  {{"outcome", "submitted"}, {"fields", {{"journal", "J"}}}})
            .status == 409);
  CHECK(dave.post("/api/v1/work-items/1/release").status == 403);
  CHECK(ids(dave.get("/api/v1/work-items?assignee=carl")) == std::vector<Id>{1});

  // A team leader gives it to dave, if carl still has it.
  const Reply given =
      tina.post("/api/v1/work-items/1/assign", {{"to", "dave"}, {"if_assignee", "carl"}});
  REQUIRE(given.status == 200);
  CHECK(given.body["assignee"] == "dave");
  // tom saw carl: the item has moved on since, so his assignment is refused.
  const Reply stale =
      tom.post("/api/v1/work-items/1/assign", {{"to", "carl"}, {"if_assignee", "carl"}});
  CHECK(stale.status == 409);
  CHECK(stale.code() == "CONFLICT");
  CHECK(tom.post("/api/v1/work-items/1/assign", {{"to", "carl"}}).status == 400);
  CHECK(
      carl.post("/api/v1/work-items/1/assign", {{"to", "carl"}, {"if_assignee", "dave"}}).status ==
      403);  // a caseworker does not assign
  CHECK(
      tina.post("/api/v1/work-items/1/assign", {{"to", "cass"}, {"if_assignee", "dave"}}).status ==
      403);  // not someone of another team
  CHECK(w.login("eve")
            .post("/api/v1/work-items/1/assign", {{"to", "cass"}, {"if_assignee", "dave"}})
            .status == 404);
  CHECK(tina.post("/api/v1/work-items/1/release").body["assignee"].is_null());
  CHECK(dave.post("/api/v1/work-items/1/claim", {{"as", "carl"}}).status == 400);
}

TEST_CASE("http: bulk reassignment with a conflict in the middle does the others and says why") {
  WorkWorld w;
  for (int i = 0; i < 4; ++i) w.start();  // items 1-4: caseworker, Arrears
  w.run();
  const Client tina = w.login("tina");
  REQUIRE(w.login("carl").post("/api/v1/work-items/2/claim").status == 200);
  const nlohmann::json body = {
      {"items",
       {{{"id", 1}, {"to", "dave"}, {"if_assignee", nullptr}},
        {{"id", 2}, {"to", "dave"}, {"if_assignee", nullptr}},  // carl has it now: a conflict
        {{"id", 3}, {"to", "cass"}, {"if_assignee", nullptr}},  // another team's caseworker
        {{"id", 999}, {"to", "dave"}, {"if_assignee", nullptr}},
        {{"id", 4}, {"to", "carl"}, {"if_assignee", nullptr}}}}};

  // Every refusal of the whole request changes nothing.
  const std::string before = w.state();
  CHECK(Client(w.port).post("/api/v1/work-items/assign", body).status == 401);
  CHECK(w.login("carl").post("/api/v1/work-items/assign", body).status == 403);
  CHECK(w.login("olga").post("/api/v1/work-items/assign", body).status == 403);
  CHECK(tina.post("/api/v1/work-items/assign").status == 400);
  CHECK(tina.post("/api/v1/work-items/assign", {{"items", nlohmann::json::array()}}).status == 400);
  CHECK(tina.post("/api/v1/work-items/assign", {{"items", {{{"id", 1}, {"to", "dave"}}}}}).status ==
        400);  // if_assignee is required
  CHECK(tina.post("/api/v1/work-items/assign",
                  {{"items", {{{"id", "1"}, {"to", "dave"}, {"if_assignee", nullptr}}}}})
            .status == 400);
  CHECK(tina.post("/api/v1/work-items/assign",
                  {{"items", {{{"id", 1}, {"to", "dave"}, {"if_assignee", nullptr}, {"by", "x"}}}}})
            .status == 400);
  CHECK(tina.post("/api/v1/work-items/assign", {{"items", {1, 2}}}).status == 400);
  CHECK(w.state() == before);

  const Reply r = tina.post("/api/v1/work-items/assign", body);
  INFO(r.text);
  REQUIRE(r.status == 200);
  const auto& results = r.body["results"];
  REQUIRE(results.size() == 5);
  CHECK(results[0]["result"] == "done");
  CHECK(results[0]["item"]["assignee"] == "dave");
  CHECK(results[1]["result"] == "conflict");
  CHECK_THAT(results[1]["message"].get<std::string>(), Catch::Contains("carl"));
  CHECK(results[2]["result"] == "refused");
  CHECK(results[3]["result"] == "not_found");
  CHECK(results[4]["result"] == "done");
  const Client dave = w.login("dave");
  CHECK(ids(dave.get("/api/v1/work-items?assignee=dave")) == std::vector<Id>{1});
  CHECK(ids(dave.get("/api/v1/work-items?assignee=carl")) == (std::vector<Id>{2, 4}));
  CHECK(ids(dave.get("/api/v1/work-items?assignee=none")) == std::vector<Id>{3});
  // Another team's leader cannot see these items: each answers as unknown, and stays put.
  const Reply eve =
      w.login("eve").post("/api/v1/work-items/assign",
                          {{"items", {{{"id", 3}, {"to", "cass"}, {"if_assignee", nullptr}}}}});
  CHECK(eve.body["results"][0]["result"] == "not_found");
  CHECK(ids(dave.get("/api/v1/work-items?assignee=none")) == std::vector<Id>{3});
}

TEST_CASE("http: counts per inbox and status for badges, and a team leader's workload") {
  WorkWorld w;
  for (int i = 0; i < 3; ++i) w.start();  // items 1-3: caseworker, Arrears, due in 2 days
  w.run();
  Client carl = w.login("carl");
  auto count = [](const Reply& r, const std::string& inbox, const std::string& status) {
    for (const auto& c : r.body["counts"]) {
      if (c["inbox"] == inbox && c["status"] == status) return c;
    }
    return nlohmann::json(nullptr);
  };
  Reply r = carl.get("/api/v1/work-items/counts");
  REQUIRE(r.status == 200);
  CHECK(count(r, "caseworker", "open") ==
        nlohmann::json{{"inbox", "caseworker"}, {"status", "open"}, {"n", 3}, {"overdue", 0}});
  CHECK(count(w.login("cass").get("/api/v1/work-items/counts"), "caseworker", "open").is_null());
  CHECK(count(w.login("olga").get("/api/v1/work-items/counts"), "caseworker", "open")["n"] == 3);
  CHECK(Client(w.port).get("/api/v1/work-items/counts").status == 401);
  CHECK(carl.get("/api/v1/work-items/counts?inbox=x").status == 400);

  // carl completes one (the procedure then opens an approval for the team leaders), dave is
  // given one, and three days pass: dave's is overdue.
  REQUIRE(carl.post("/api/v1/work-items/1/claim").status == 200);
  REQUIRE(carl.post("/api/v1/work-items/1/complete",
                    {{"outcome", "submitted"}, {"fields", {{"journal", "J1"}}}})
              .status == 200);
  Client tina = w.login("tina");
  REQUIRE(
      tina.post("/api/v1/work-items/2/assign", {{"to", "dave"}, {"if_assignee", nullptr}}).status ==
      200);
  Reply load = tina.get("/api/v1/team/workload");
  INFO(load.text);
  REQUIRE(load.status == 200);
  CHECK(load.body["team"] == "Arrears");
  CHECK(load.body["caseworkers"] ==
        nlohmann::json::array(
            {{{"user", "carl"}, {"open", 0}, {"overdue", 0}, {"completed_today", 1}},
             {{"user", "dave"}, {"open", 1}, {"overdue", 0}, {"completed_today", 0}}}));
  w.on_server([&w] {
    w.t.clock.set(w.t.clock.now() + std::chrono::hours(24 * 3));
    return 0;
  });
  // Sessions have lapsed meanwhile: each signs in again.
  tina = w.login("tina");
  carl = w.login("carl");
  load = tina.get("/api/v1/team/workload");
  CHECK(load.body["caseworkers"][0]["completed_today"] == 0);  // that was days ago
  CHECK(load.body["caseworkers"][1]["overdue"] == 1);
  r = carl.get("/api/v1/work-items/counts");
  CHECK(count(r, "caseworker", "open")["overdue"] == 2);
  CHECK(count(r, "caseworker", "completed")["n"] == 1);
  CHECK(count(tina.get("/api/v1/work-items/counts"), "team_leader", "open")["n"] == 1);
  // Another team's leader sees their own team only; no one else sees a workload.
  CHECK(w.login("eve").get("/api/v1/team/workload").body["caseworkers"] ==
        nlohmann::json::array(
            {{{"user", "cass"}, {"open", 0}, {"overdue", 0}, {"completed_today", 0}}}));
  CHECK(carl.get("/api/v1/team/workload").status == 403);
  CHECK(w.login("olga").get("/api/v1/team/workload").status == 403);
  CHECK(Client(w.port).get("/api/v1/team/workload").status == 401);
  CHECK(tina.get("/api/v1/team/workload?team=Enforcement").status == 400);
}

namespace {

// One sample of the Prometheus text format: its name, its labels and its value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses an exposition (format 0.0.4) by its rules, failing the test on any line that breaks
// them: names and label names are [a-zA-Z_:][a-zA-Z0-9_:]* (labels without ':'), label
// values are quoted with \\, \" and \n the only escapes, each family's TYPE comes once and
// before its samples, and each sample belongs to a declared family (a histogram's as
// _bucket, _sum and _count).
std::vector<Sample> parse_exposition(const std::string& text) {
  static const std::regex kHelp(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  static const std::regex kType(
      R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped))");
  static const std::regex kSample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([-+]?([0-9.]+([eE][-+]?[0-9]+)?|Inf|NaN)))");
  static const std::regex kLabel(R"(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)\"(,|$))");
  std::map<std::string, std::string> types;
  std::vector<Sample> out;
  std::istringstream in(text);
  std::string line;
  REQUIRE(!text.empty());
  REQUIRE(text.back() == '\n');
  while (std::getline(in, line)) {
    INFO(line);
    std::smatch m;
    if (std::regex_match(line, m, kHelp)) continue;
    if (std::regex_match(line, m, kType)) {
      CHECK(types.count(m[1]) == 0);
      types[m[1]] = m[2];
      continue;
    }
    REQUIRE(std::regex_match(line, m, kSample));
    Sample sample{m[1], {}, 0};
    std::string family = sample.name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string sfx = suffix;
      if (!types.count(family) && family.size() > sfx.size() &&
          family.compare(family.size() - sfx.size(), sfx.size(), sfx) == 0 &&
          types.count(family.substr(0, family.size() - sfx.size())) &&
          types[family.substr(0, family.size() - sfx.size())] == "histogram") {
        family = family.substr(0, family.size() - sfx.size());
      }
    }
    CHECK(types.count(family) == 1);  // declared, and before its samples
    std::string labels = m[3];
    while (!labels.empty()) {
      std::smatch l;
      REQUIRE(std::regex_search(labels, l, kLabel, std::regex_constants::match_continuous));
      CHECK(sample.labels.count(l[1]) == 0);
      sample.labels[l[1]] = l[2];
      labels = l.suffix();
    }
    const std::string value = m[4];
    sample.value = value.find("Inf") != std::string::npos ? HUGE_VAL : std::stod(value);
    out.push_back(std::move(sample));
  }
  return out;
}

double value_of(const std::vector<Sample>& samples, const std::string& name,
                const std::map<std::string, std::string>& labels = {}) {
  for (const auto& s : samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  FAIL("no sample " << name);
  return 0;
}

}  // namespace

TEST_CASE("http: /metrics in the Prometheus text format, for operators and the metrics token") {
  WorkWorld w;
  w.start();  // an approval instance, waiting on a caseworker item
  w.run();
  CHECK(
      Client(w.port).post("/api/v1/login", {{"name", "carl"}, {"password", "wrong one"}}).status ==
      401);
  const Client carl = w.login("carl");
  REQUIRE(carl.get("/api/v1/work-items/1").status == 200);
  const Client olga = w.login("olga");
  const Reply r = olga.get("/metrics");
  INFO(r.text);
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
  const auto samples = parse_exposition(r.text);
  CHECK(value_of(samples, "casekit_instances",
                 {{"procedure", "approval"}, {"status", "waiting"}}) == 1);
  CHECK(value_of(samples, "casekit_work_items_open", {{"inbox", "caseworker"}}) == 1);
  CHECK(value_of(samples, "casekit_logins_refused_total") == 1);
  CHECK(value_of(samples, "casekit_accounts_locked") == 0);
  CHECK_THAT(r.text, Catch::Contains("casekit_activation_seconds_bucket{le=\"0.0005\"}"));
  // No incident: the family is declared, with no sample.
  CHECK_THAT(r.text, Catch::Contains("# TYPE casekit_incidents_open gauge\n# HELP"));
  CHECK(value_of(samples, "casekit_http_requests_total",
                 {{"route", "/api/v1/work-items/{id}"}, {"method", "GET"}, {"status", "200"}}) ==
        1);
  // A histogram's buckets only grow, and its +Inf bucket is its count.
  const double count =
      value_of(samples, "casekit_http_request_seconds_count", {{"route", "/api/v1/login"}});
  CHECK(count == 3);
  double last = 0;
  for (const auto& s : samples) {
    if (s.name != "casekit_http_request_seconds_bucket" || s.labels.at("route") != "/api/v1/login")
      continue;
    CHECK(s.value >= last);
    last = s.value;
  }
  CHECK(last == count);
  // Nothing personal in a label: routes are patterns, and no name, NINO or path is there.
  for (const char* personal : {"Sam Payer", "AB000001C", "/api/v1/work-items/1\"", "carl"}) {
    CHECK_THAT(r.text, !Catch::Contains(personal));
  }

  // Who may read it.
  CHECK(Client(w.port).get("/metrics").status == 401);
  CHECK(carl.get("/metrics").status == 403);
  CHECK(w.login("tina").get("/metrics").status == 403);
  CHECK(olga.get("/metrics?debug=1").status == 400);
  const std::string token = w.on_server([&w] {
    Transaction tx(w.t.engine.db);
    std::string t = w.t.engine.accounts.new_metrics_token();
    tx.commit();
    return t;
  });
  Client scraper(w.port);
  scraper.bearer = token;
  const Reply scraped = scraper.get("/metrics");
  CHECK(scraped.status == 200);
  CHECK(value_of(parse_exposition(scraped.text), "casekit_activations_total") >= 0);
  CHECK(scraper.get("/api/v1/me").status == 401);  // the token opens /metrics and nothing else
  CHECK(scraper.get("/api/v1/work-items").status == 401);
  Client wrong(w.port);
  wrong.bearer = std::string(token.size(), '0');
  CHECK(wrong.get("/metrics").status == 401);
  CHECK(w.on_server([&w] { return w.t.dump("settings"); }).find(token) == std::string::npos);
}

TEST_CASE("http: operators list, read, retry and cancel instances, and list incidents") {
  WorkWorld w;
  w.t.procedure("boom", R"lua(
return procedure {
  name = "boom",
  run = function(ctx)
    error("the BaNCS answer was not understood")
  end,
}
)lua");
  const Id waiting = w.start();  // approval, waiting on a person
  const auto f = w.t.family("CSA-0000099");
  const Id failed = w.t.runtime.start("boom", f.casegroup, {}, "carl");
  w.run();
  const Client olga = w.login("olga");
  Reply r = olga.get("/api/v1/instances?status=failed");
  INFO(r.text);
  REQUIRE(r.status == 200);
  REQUIRE(r.body["instances"].size() == 1);
  CHECK(r.body["instances"][0]["id"] == failed);
  CHECK(olga.get("/api/v1/instances?procedure=approval").body["instances"][0]["id"] == waiting);
  CHECK(olga.get("/api/v1/instances?casegroup=" + std::to_string(f.casegroup))
            .body["instances"]
            .size() == 1);
  const Reply page = olga.get("/api/v1/instances?limit=1");
  CHECK(page.body["instances"][0]["id"] == waiting);
  CHECK(olga.get("/api/v1/instances?limit=1&cursor=" + page.body["next_cursor"].get<std::string>())
            .body["instances"][0]["id"] == failed);

  const Reply shown = olga.get("/api/v1/instances/" + std::to_string(waiting));
  REQUIRE(shown.status == 200);
  CHECK(shown.body["status"] == "waiting");
  CHECK(!shown.body["history"].empty());
  const Reply incidents = olga.get("/api/v1/incidents");
  REQUIRE(incidents.body["incidents"].size() == 1);
  CHECK(incidents.body["incidents"][0]["instance"] == failed);
  CHECK_THAT(incidents.body["incidents"][0]["message"].get<std::string>(),
             Catch::Contains("not understood"));

  // Every way in that must be refused is, and changes nothing.
  const std::string before = w.state();
  const std::string one = "/api/v1/instances/" + std::to_string(failed);
  Client nobody(w.port);
  CHECK(nobody.get("/api/v1/instances").status == 401);
  CHECK(nobody.get("/api/v1/incidents").status == 401);
  CHECK(nobody.post(one + "/retry").status == 401);
  const Client carl = w.login("carl");
  CHECK(carl.get("/api/v1/instances").status == 403);
  CHECK(carl.get(one).status == 403);
  CHECK(carl.get("/api/v1/incidents").status == 403);
  CHECK(carl.post(one + "/retry").status == 403);
  CHECK(w.login("tina").post(one + "/cancel").status == 403);
  CHECK(olga.get("/api/v1/instances/999").status == 404);
  CHECK(olga.post("/api/v1/instances/999/retry").status == 404);
  CHECK(olga.get("/api/v1/instances?status=asleep").status == 400);
  CHECK(olga.get("/api/v1/instances?colour=red").status == 400);
  CHECK(olga.get("/api/v1/incidents?all=maybe").status == 400);
  CHECK(olga.post(one + "/retry", {{"force", true}}).status == 400);
  CHECK(olga.post("/api/v1/instances/" + std::to_string(waiting) + "/retry").status ==
        422);  // only a failed instance is retried
  CHECK(w.state() == before);

  // A retry resolves the incident and runs the instance again (it fails again here, with a
  // new incident); a cancel stops it for good.
  r = olga.post(one + "/retry");
  REQUIRE(r.status == 200);
  CHECK(r.body["status"] == "failed");
  const Reply all = olga.get("/api/v1/incidents?all=true");
  REQUIRE(all.body["incidents"].size() == 2);
  CHECK(olga.get("/api/v1/incidents").body["incidents"].size() == 1);
  // The console's chart: this hour has both incidents (read from the store) and the
  // retry's activation (this process ran it); the day before it is empty.
  const Reply activity = olga.get("/api/v1/activity");
  REQUIRE(activity.status == 200);
  const auto& hours = activity.body["hours"];
  REQUIRE(hours.size() == 24);
  CHECK(hours.front()["hour"] == "2026-11-19T10:00:00Z");
  CHECK(hours.back()["hour"] == "2026-11-20T09:00:00Z");
  CHECK(hours.back()["incidents"] == 2);
  CHECK(hours.back()["activations"].get<int>() >= 1);
  for (std::size_t i = 0; i + 1 < hours.size(); ++i) {
    CHECK(hours[i]["incidents"] == 0);
    CHECK(hours[i]["activations"] == 0);
  }
  CHECK(carl.get("/api/v1/activity").status == 403);
  CHECK(olga.get("/api/v1/activity?hours=48").status == 400);
  r = olga.post("/api/v1/instances/" + std::to_string(waiting) + "/cancel");
  REQUIRE(r.status == 200);
  CHECK(r.body["status"] == "cancelled");
  CHECK(ids(carl.get("/api/v1/work-items")).empty());  // its open item went with it
  CHECK(w.on_server([&w] {
    return w.t.count(
        "SELECT count(*) FROM audit WHERE actor = 'user:olga' AND "
        "entity = 'work_items' AND action = 'update'");
  }) == 1);
}

TEST_CASE("http: operators upgrade an instance and a procedure's instances a page at a time") {
  WorkWorld w;
  std::vector<Id> started;
  for (int i = 0; i < 101; ++i) started.push_back(w.start());  // all at their first task
  const auto edit = [&w](const std::string& from, const std::string& to) {
    std::string source = kApproval;
    source.replace(source.find(from), from.size(), to);
    w.t.procedure("approval", source);
  };
  // What follows the first task changes: every history replays on it.
  edit("title = \"Approve\"", "title = \"Approve the reversal\"");
  w.run();
  const Client olga = w.login("olga");
  const std::string first = "/api/v1/instances/" + std::to_string(started[0]) + "/upgrade";
  const auto source_of = [&](Id id) {
    return olga.get("/api/v1/instances/" + std::to_string(id)).body["source_hash"];
  };
  const auto pinned = source_of(started[0]);

  // Every way in that must be refused is, and changes nothing.
  const std::string before = w.state();
  const std::string all = "/api/v1/procedures/approval/upgrade";
  Client nobody(w.port);
  CHECK(nobody.post(first).status == 401);
  CHECK(nobody.post(all).status == 401);
  const Client carl = w.login("carl");
  CHECK(carl.post(first).status == 403);
  CHECK(carl.post(all).status == 403);
  CHECK(w.login("tina").post(all, {{"dry_run", true}}).status == 403);
  CHECK(olga.post("/api/v1/instances/999/upgrade").status == 404);
  CHECK(olga.post("/api/v1/procedures/nowhere/upgrade").status == 404);
  CHECK(olga.post("/api/v1/procedures/no..where/upgrade").status == 400);
  CHECK(olga.post(first, {{"dry_run", "yes"}}).status == 400);
  CHECK(olga.post(first, {{"cursor", "1"}}).status == 400);  // one instance has no pages
  CHECK(olga.post(all, {{"force", true}}).status == 400);
  CHECK(olga.post(all, {{"cursor", "x"}}).status == 400);
  CHECK(olga.post(all + "?dry_run=true").status == 400);
  CHECK(w.state() == before);

  // One instance: a dry run says it would move, then it moves.
  Reply r = olga.post(first, {{"dry_run", true}});
  INFO(r.text);
  REQUIRE(r.status == 200);
  CHECK(r.body["upgrade"]["replays"] == true);
  CHECK(r.body["upgrade"]["switched"] == false);
  CHECK(source_of(started[0]) == pinned);
  r = olga.post(first);
  REQUIRE(r.status == 200);
  CHECK(r.body["upgrade"]["switched"] == true);
  CHECK(r.body["instance"]["source_hash"] != pinned);
  CHECK(r.body["instance"]["status"] == "waiting");

  // The procedure's instances, 100 a request: the one moved already is up to date.
  r = olga.post(all);
  REQUIRE(r.status == 200);
  REQUIRE(r.body["instances"].size() == 100);
  CHECK(r.body["upgraded"] == 99);
  CHECK(r.body["diverged"] == 0);
  REQUIRE(r.body["next_cursor"].is_string());
  r = olga.post(all, {{"cursor", r.body["next_cursor"]}});
  REQUIRE(r.status == 200);
  REQUIRE(r.body["instances"].size() == 1);
  CHECK(r.body["instances"][0]["instance"] == started.back());
  CHECK(r.body["upgraded"] == 1);
  CHECK(r.body["next_cursor"].is_null());
  CHECK(source_of(started.back()) == source_of(started[0]));

  // The first task's title changes: no history replays, and none moves.
  edit("title = \"Prepare the reversal\"", "title = \"Prepare it\"");
  r = olga.post(all, {{"dry_run", true}});
  REQUIRE(r.status == 200);
  CHECK(r.body["upgraded"] == 0);
  CHECK(r.body["diverged"] == 100);
  CHECK(r.body["instances"][0]["divergence"]["position"] == 2);
  CHECK_THAT(r.body["instances"][0]["divergence"]["line"].get<std::string>(),
             Catch::Contains("approval.lua:"));
  CHECK(olga.post(all).body["upgraded"] == 0);
  CHECK(source_of(started[0]) != pinned);
  CHECK(w.on_server([&w] {
    return w.t.count("SELECT count(*) FROM instances WHERE status = 'waiting'");
  }) == 101);
}

TEST_CASE("http: operators verify the audit's hash chain a page at a time") {
  WorkWorld w;
  for (int i = 0; i < 3; ++i) w.start();
  w.run();
  const std::string verify = "/api/v1/audit/verify";
  CHECK(Client(w.port).get(verify).status == 401);
  CHECK(w.login("carl").get(verify).status == 403);
  CHECK(w.login("tina").get(verify).status == 403);
  const Client olga = w.login("olga");
  CHECK(olga.get(verify + "?cursor=x").status == 400);
  CHECK(olga.get(verify + "?cursor=1").status == 400);
  CHECK(olga.get(verify + "?limit=5").status == 400);

  Reply r = olga.get(verify);
  INFO(r.text);
  REQUIRE(r.status == 200);
  CHECK(r.body["intact"] == true);
  CHECK(r.body["head"].get<std::string>().size() == 64);
  CHECK(r.body["next_cursor"].is_null());
  const auto sets = r.body["sets"].get<std::int64_t>();
  CHECK(sets == w.on_server([&w] { return w.t.count("SELECT count(*) FROM audit_sets"); }));
  // From a cursor: the sets after it, chained on where it stopped.
  const std::string after_first = w.on_server([&w] {
    return "1." + std::to_string(
                      w.t.count("SELECT coalesce(max(id), 0) FROM audit_changes WHERE set_id = 1"));
  });
  r = olga.get(verify + "?cursor=" + after_first);
  REQUIRE(r.status == 200);
  CHECK(r.body["intact"] == true);
  CHECK(r.body["sets"] == sets - 1);

  // A change altered by hand: the chain no longer holds where it was made.
  w.on_server([&w] {
    w.t.db.exec(
        "UPDATE audit_changes SET after = replace(after, 'CSA-', 'CSX-') WHERE id = "
        "(SELECT min(id) FROM audit_changes WHERE shape_id IN (SELECT id FROM audit_shapes WHERE "
        "entity = 'casegroups'))");
    return 0;
  });
  r = olga.get(verify);
  REQUIRE(r.status == 200);
  CHECK(r.body["intact"] == false);
  CHECK(r.body["first_bad_set"].is_number());
  CHECK_THAT(r.body["problem"].get<std::string>(), Catch::Contains("does not match its hash"));
}

TEST_CASE("http: a running import's progress shows on its run and in /metrics") {
  WorkWorld w;
  // As `casekit import dw` in another process leaves it between two batches.
  w.t.engine.db.exec(
      "INSERT INTO runs(script, trigger, started_at, status, rows_read, rows_total, progress_at) "
      "VALUES ('import dw', 'manual', '2026-11-20T08:59:50Z', 'running', 5000, 20000, "
      "'2026-11-20T09:00:00Z')");
  w.run();
  const Client olga = w.login("olga");
  Reply r = olga.get("/api/v1/runs");
  INFO(r.text);
  REQUIRE(r.status == 200);
  REQUIRE(r.body["runs"].size() == 1);
  const auto run = r.body["runs"][0];
  CHECK(run["script"] == "import dw");
  CHECK(run["status"] == "running");
  CHECK(run["progress"]["rows_read"] == 5000);
  CHECK(run["progress"]["rows_total"] == 20000);
  CHECK(run["progress"]["rows_per_second"] == 500.0);
  CHECK(olga.get("/api/v1/runs/" + std::to_string(run["id"].get<Id>())).body["progress"] ==
        run["progress"]);
  r = olga.get("/metrics");
  const auto samples = parse_exposition(r.text);
  CHECK(value_of(samples, "casekit_import_rows_per_second") == 500.0);
  CHECK(value_of(samples, "casekit_import_rows_read") == 5000.0);
  // Finished: no import runs, and the gauges say so.
  w.on_server([&w] {
    w.t.engine.db.exec("UPDATE runs SET status = 'succeeded'");
    return 0;
  });
  const auto after = parse_exposition(olga.get("/metrics").text);
  CHECK(value_of(after, "casekit_import_rows_per_second") == 0.0);
}

TEST_CASE("http: operators list, pause, resume and run schedules, and read their runs") {
  WorkWorld w;
  w.run();
  const Client olga = w.login("olga");
  const std::string name = "lo-paid-off-monitor";
  const std::string base = "/api/v1/schedules/" + name;
  Reply r = olga.get("/api/v1/schedules");
  INFO(r.text);
  REQUIRE(r.status == 200);
  nlohmann::json listed;
  for (const auto& s : r.body["schedules"]) {
    if (s["name"] == name) listed = s;
  }
  REQUIRE(listed.is_object());
  CHECK(listed["paused"] == false);
  CHECK(listed["next"].is_string());

  // Every way in that must be refused is, and changes nothing.
  const auto state = [&w] {
    return w.on_server([&w] { return w.t.dump("schedule_state") + w.t.dump("runs"); });
  };
  const std::string before = state();
  Client nobody(w.port);
  CHECK(nobody.get("/api/v1/schedules").status == 401);
  CHECK(nobody.post(base + "/run").status == 401);
  const Client carl = w.login("carl");
  CHECK(carl.get("/api/v1/schedules").status == 403);
  CHECK(carl.post(base + "/pause").status == 403);
  CHECK(carl.post(base + "/run").status == 403);
  CHECK(carl.get("/api/v1/runs").status == 403);
  CHECK(olga.post("/api/v1/schedules/nope/pause").status == 404);
  CHECK(olga.post(base + "/pause", {{"until", "monday"}}).status == 400);
  CHECK(olga.get("/api/v1/schedules?all=1").status == 400);
  CHECK(olga.get("/api/v1/runs?schedule=nope").status == 404);
  CHECK(olga.get("/api/v1/runs?limit=0").status == 400);
  CHECK(olga.get("/api/v1/runs/999").status == 404);
  CHECK(state() == before);

  r = olga.post(base + "/pause");
  REQUIRE(r.status == 200);
  CHECK(r.body["schedule"]["paused"] == true);
  r = olga.post(base + "/resume");
  CHECK(r.body["schedule"]["paused"] == false);
  r = olga.post(base + "/run");
  REQUIRE(r.status == 200);
  CHECK(r.body["run"]["status"] == "succeeded");
  CHECK(r.body["run"]["trigger"] == "manual");
  const Id run = r.body["run"]["id"];
  CHECK(r.body["schedule"]["last_run"]["id"] == run);
  const Reply runs = olga.get("/api/v1/runs?schedule=" + name);
  REQUIRE(runs.body["runs"].size() == 1);
  CHECK(runs.body["runs"][0]["id"] == run);
  CHECK(olga.get("/api/v1/runs/" + std::to_string(run)).body["status"] == "succeeded");
}

TEST_CASE("http: operators list the letters outbox and fulfil it, a bounded batch at a time") {
  const test::TempDir dir;
  http::ServiceOptions o;
  o.outbox = dir.path() / "outbox";
  WorkWorld w(o);
  const auto f = w.t.family("CSA-0000777");
  for (int i = 0; i < 3; ++i) {
    w.t.engine.letters.queue({"CMSL6000",
                              f.receiving_parent,
                              f.casegroup,
                              std::nullopt,
                              {{"amount_missed", "£50.00"}, {"due_date", "2026-11-01"}},
                              std::nullopt});
  }
  w.run();
  const Client olga = w.login("olga");
  Reply r = olga.get("/api/v1/letters?status=queued&limit=2");
  INFO(r.text);
  REQUIRE(r.status == 200);
  REQUIRE(r.body["letters"].size() == 2);
  CHECK(r.body["letters"][0]["template"] == "CMSL6000");
  CHECK_FALSE(r.body["letters"][0].contains("body"));  // the text is personal data
  const std::string cursor = r.body["next_cursor"];
  r = olga.get("/api/v1/letters?status=queued&limit=2&cursor=" + cursor);
  REQUIRE(r.body["letters"].size() == 1);
  CHECK(r.body["next_cursor"].is_null());

  // Every way in that must be refused is, and changes nothing.
  const auto state = [&w] { return w.on_server([&w] { return w.t.dump("letters"); }); };
  const std::string before = state();
  Client nobody(w.port);
  CHECK(nobody.get("/api/v1/letters").status == 401);
  CHECK(nobody.post("/api/v1/letters/fulfil").status == 401);
  const Client carl = w.login("carl");
  CHECK(carl.get("/api/v1/letters").status == 403);
  CHECK(carl.post("/api/v1/letters/fulfil").status == 403);
  const Client tina = w.login("tina");
  CHECK(tina.post("/api/v1/letters/fulfil").status == 403);
  CHECK(olga.get("/api/v1/letters?status=lost").status == 400);
  CHECK(olga.get("/api/v1/letters?cursor=x").status == 400);
  CHECK(olga.get("/api/v1/letters?sort=id").status == 400);
  CHECK(olga.post("/api/v1/letters/fulfil", {{"all", true}}).status == 400);
  CHECK(state() == before);
  CHECK_FALSE(std::filesystem::exists(o.outbox));

  r = olga.post("/api/v1/letters/fulfil");
  REQUIRE(r.status == 200);
  CHECK(r.body["fulfilled"] == 3);
  CHECK(r.body["more"] == false);
  CHECK(std::distance(std::filesystem::directory_iterator(o.outbox), {}) == 3);
  CHECK(olga.get("/api/v1/letters?status=queued").body["letters"].empty());
  CHECK(olga.get("/api/v1/letters?status=fulfilled").body["letters"].size() == 3);
  CHECK(olga.post("/api/v1/letters/fulfil").body["fulfilled"] == 0);
  // Audited as the operator's.
  CHECK(w.on_server([&w] {
    return w.t.count(
        "SELECT count(*) FROM audit WHERE entity = 'letters' AND action = 'update' "
        "AND actor = 'user:olga'");
  }) == 3);
}

TEST_CASE("http: a team leader reads the day's transition exceptions and allocates each") {
  WorkWorld w;
  const std::string day = format_date(w.t.clock.today());
  const Id first = w.t.engine.exceptions.record(std::string("CSA-0000501"), "no NINO");
  const Id second = w.t.engine.exceptions.record(std::nullopt, "line 9: not valid JSON");
  w.run();
  const std::string one = "/api/v1/exceptions/" + std::to_string(first) + "/allocate";
  const Client tina = w.login("tina");
  Reply r = tina.get("/api/v1/exceptions");
  INFO(r.text);
  REQUIRE(r.status == 200);
  CHECK(r.body["date"] == day);
  REQUIRE(r.body["exceptions"].size() == 2);
  CHECK(r.body["exceptions"][0]["csa_ref"] == "CSA-0000501");
  CHECK(r.body["exceptions"][0]["allocated_to"].is_null());
  CHECK(r.body["exceptions"][1]["csa_ref"].is_null());
  CHECK(tina.get("/api/v1/exceptions?date=2026-01-01").body["exceptions"].empty());

  // Every way in that must be refused is, and changes nothing. Another team's caseworker is
  // 403: the exceptions are every team leader's to see, and the refusal is about the person.
  const auto state = [&w] {
    return w.on_server([&w] { return w.t.dump("exceptions") + w.t.dump("work_items"); });
  };
  const std::string before = state();
  Client nobody(w.port);
  CHECK(nobody.get("/api/v1/exceptions").status == 401);
  CHECK(nobody.post(one, {{"to", "carl"}}).status == 401);
  const Client carl = w.login("carl");
  const Client olga = w.login("olga");
  CHECK(carl.get("/api/v1/exceptions").status == 403);
  CHECK(olga.get("/api/v1/exceptions").status == 403);
  CHECK(carl.post(one, {{"to", "carl"}}).status == 403);
  CHECK(olga.post(one, {{"to", "carl"}}).status == 403);
  CHECK(tina.post(one, {{"to", "cass"}}).status == 403);  // not in tina's team
  CHECK(tina.post(one, {{"to", "olga"}}).status == 403);  // may not work the inbox
  CHECK(tina.post(one, {{"to", "ghost"}}).status == 404);
  CHECK(tina.post("/api/v1/exceptions/999/allocate", {{"to", "carl"}}).status == 404);
  CHECK(tina.post("/api/v1/exceptions/x/allocate", {{"to", "carl"}}).status == 404);
  CHECK(tina.post(one, nlohmann::json::object()).status == 400);
  CHECK(tina.post(one, {{"to", "carl"}, {"by", "tom"}}).status == 400);
  CHECK(tina.get("/api/v1/exceptions?date=07/12/2026").status == 400);
  CHECK(tina.get("/api/v1/exceptions?team=Arrears").status == 400);
  CHECK(state() == before);

  r = tina.post(one, {{"to", "carl"}});
  REQUIRE(r.status == 200);
  CHECK(r.body["allocated_to"] == "carl");
  CHECK(r.body["item_status"] == "open");
  const Id item = r.body["work_item"];
  const std::string item_path = "/api/v1/work-items/" + std::to_string(item);
  r = carl.get(item_path);
  REQUIRE(r.status == 200);
  CHECK(r.body["kind"] == "resolve_exception");
  CHECK(r.body["team"] == "Arrears");
  CHECK(r.body["assignee"] == "carl");
  CHECK(r.body["details"]["reason"] == "no NINO");
  const Client cass = w.login("cass");
  CHECK(cass.get(item_path).status == 404);  // another team's item answers as unknown
  // Allocated once: moving it is the work item's reassignment.
  CHECK(tina.post(one, {{"to", "dave"}}).status == 409);
  const Client eve = w.login("eve");
  CHECK(eve.get("/api/v1/exceptions").status == 200);
  CHECK(eve.post("/api/v1/exceptions/" + std::to_string(second) + "/allocate", {{"to", "carl"}})
            .status == 403);

  // The caseworker says what they found; the report shows it done.
  CHECK(carl.post(item_path + "/complete",
                  {{"outcome", "resolved"}, {"fields", nlohmann::json::object()}})
            .status == 400);  // the note is required
  r = carl.post(item_path + "/complete",
                {{"outcome", "resolved"}, {"fields", {{"note", "NINO from CSA, entered"}}}});
  REQUIRE(r.status == 200);
  r = tina.get("/api/v1/exceptions?date=" + day);
  CHECK(r.body["exceptions"][0]["item_status"] == "completed");
  CHECK(r.body["exceptions"][1]["work_item"].is_null());
  CHECK(w.on_server([&w] {
    return w.t.count(
        "SELECT count(*) FROM audit WHERE entity = 'exceptions' AND "
        "action = 'update' AND actor = 'user:tina'");
  }) == 1);
}

TEST_CASE("http: saved views are each user's own, checked as a listing is") {
  WorkWorld w;
  w.start();
  w.run();
  const Client carl = w.login("carl");
  const Client dave = w.login("dave");
  const std::string path = "/api/v1/views/My%20overdue";
  auto put = [](const Client& c, const std::string& target, const nlohmann::json& body) {
    return c.send("PUT", target, body.dump());
  };
  const Reply saved =
      put(carl, path, {{"filter", {{"assignee", "me"}, {"overdue", "true"}, {"sort", "due"}}}});
  INFO(saved.text);
  REQUIRE(saved.status == 200);
  CHECK(saved.body["name"] == "My overdue");
  Reply mine = carl.get("/api/v1/views");
  REQUIRE(mine.body["views"].size() == 1);
  CHECK(mine.body["views"][0]["filter"] ==
        nlohmann::json{{"assignee", "me"}, {"overdue", "true"}, {"sort", "due"}});
  // Saving again under the name replaces it.
  REQUIRE(put(carl, path, {{"filter", {{"inbox", "caseworker"}}}}).status == 200);
  mine = carl.get("/api/v1/views");
  REQUIRE(mine.body["views"].size() == 1);
  CHECK(mine.body["views"][0]["filter"] == nlohmann::json{{"inbox", "caseworker"}});

  // Another user neither sees nor deletes it.
  const auto state = [&w] { return w.on_server([&w] { return w.t.dump("saved_views"); }); };
  const std::string before = state();
  CHECK(dave.get("/api/v1/views").body["views"].empty());
  CHECK(dave.send("DELETE", path).status == 404);
  CHECK(Client(w.port).get("/api/v1/views").status == 401);
  CHECK(Client(w.port).send("DELETE", path).status == 401);
  CHECK(put(Client(w.port), path, {{"filter", nlohmann::json::object()}}).status == 401);
  // Bad views are refused, and change nothing.
  CHECK(put(carl, path, {{"filter", {{"colour", "red"}}}}).status == 400);
  CHECK(put(carl, path, {{"filter", {{"status", "done"}}}}).status == 400);
  CHECK(put(carl, path, {{"filter", {{"sort", "name"}}}}).status == 400);
  CHECK(put(carl, path, {{"filter", {{"limit", "5"}}}}).status == 400);
  CHECK(put(carl, path, {{"filter", {{"casegroup", 7}}}}).status == 400);  // text, as in a query
  CHECK(put(carl, path, {{"filter", {{"inbox", "nowhere"}}}}).status == 404);
  CHECK(put(carl, path, nlohmann::json::object()).status == 400);
  CHECK(put(carl, "/api/v1/views/" + std::string(61, 'v'), {{"filter", nlohmann::json::object()}})
            .status == 400);
  CHECK(put(carl, "/api/v1/views/a%09b", {{"filter", nlohmann::json::object()}}).status == 400);
  CHECK(state() == before);

  const Reply gone = carl.send("DELETE", path);
  CHECK(gone.status == 200);
  CHECK(carl.get("/api/v1/views").body["views"].empty());
  CHECK(carl.send("DELETE", path).status == 404);
}

}  // namespace casekit::test

namespace casekit::test {

TEST_CASE(
    "http: 20 wrong passwords at once lock the account, and the right one then gets nothing") {
  http::ServiceOptions o;
  o.max_hashes = 32;  // every guess is checked, none turned away for the cap
  HttpWorld w(o);
  w.user("tina", "team_leader", "Arrears");
  w.run();
  std::vector<std::future<int>> guesses;
  for (int i = 0; i < 20; ++i) {
    guesses.push_back(std::async(std::launch::async, [&w, i] {
      return Client(w.port)
          .post("/api/v1/login",
                {{"name", "tina"}, {"password", "guess number " + std::to_string(i)}})
          .status;
    }));
  }
  for (auto& g : guesses) CHECK(g.get() == 401);
  CHECK(w.rows("user_credentials WHERE locked_until IS NOT NULL") == 1);
  // This address is now over its throttle; from another, the lock still holds.
  Client here(w.port);
  const Reply throttled = here.post("/api/v1/login", {{"name", "tina"}, {"password", kPassword}});
  CHECK(throttled.status == 429);
  CHECK(std::stoi(throttled.retry_after) > 0);
  Client elsewhere(w.port);
  elsewhere.from = "127.0.0.2";
  const Reply locked = elsewhere.post("/api/v1/login", {{"name", "tina"}, {"password", kPassword}});
  CHECK(locked.status == 401);
  CHECK(locked.code() == "LOGIN_REFUSED");
  CHECK(w.rows("sessions") == 0);
}

}  // namespace casekit::test

namespace casekit::test {

TEST_CASE("http: 500 connections opened at once are each answered, and /healthz still answers") {
  HttpWorld w;
  w.run();
  asio::io_context io;
  std::vector<tcp::socket> sockets;
  sockets.reserve(500);
  for (int i = 0; i < 500; ++i) {
    sockets.emplace_back(io);
    sockets.back().connect({asio::ip::make_address("127.0.0.1"), w.port});
  }
  // Every connection is open before any asks; then each asks, and each is answered.
  const std::string ask = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  for (auto& s : sockets) asio::write(s, asio::buffer(ask));
  int ok = 0;
  for (auto& s : sockets) {
    std::string out;
    beast::error_code ec;
    std::array<char, 1024> buf{};
    for (;;) {
      const std::size_t n = s.read_some(asio::buffer(buf), ec);
      if (ec) break;
      out.append(buf.data(), n);
    }
    ok += out.rfind("HTTP/1.1 200", 0) == 0;
  }
  CHECK(ok == 500);
  sockets.clear();
  CHECK(Client(w.port).get("/healthz").status == 200);
}

}  // namespace casekit::test

namespace casekit::test {
namespace {

// Two casegroups with a paying parent each, one of them with accents in the name.
struct CasegroupWorld : HttpWorld {
  CasegroupWorld() {
    user("carl", "caseworker", "Arrears");
    user("cass", "caseworker", "Enforcement");
    user("ada", "admin");
    user("olga", "operator");
    user("pat", "policy_author");
    first = t.family("CSA-0000001");
    second = t.family("CSA-0000002");
    NewClient zoe;
    zoe.name = "Zoë  Łukasz-Hughes";
    zoe.nino = "ZZ123456A";
    const Id z = t.engine.casegroups.create_client(zoe);
    NewCasegroup g;
    g.csa_ref = "CSA-0000003";
    g.paying_parent_id = z;
    g.segment = "Enforcement";
    third = t.engine.casegroups.create(g);
  }
  std::vector<Id> found(const Client& c, const std::string& query) {
    const Reply r = c.get("/api/v1/casegroups?" + query);
    INFO(query << ": " << r.text);
    REQUIRE(r.status == 200);
    std::vector<Id> out;
    for (const auto& g : r.body["casegroups"]) out.push_back(g["id"].get<Id>());
    return out;
  }
  std::string reads() {
    return on_server([this] { return t.dump("access_log"); });
  }
  // A write-off reversal SR on the first casegroup.
  NewServiceRequest reversal() const {
    NewServiceRequest n;
    n.process = "Arrears";
    n.area = "Arrears management";
    n.sub_area = "Reverse write off arrears";
    n.casegroup_id = first.casegroup;
    return n;
  }
  Family first, second;
  Id third = 0;
};

}  // namespace

TEST_CASE(
    "http: casegroup search by CSA reference, NINO, and name without regard to case or accents") {
  CasegroupWorld w;
  w.run();
  Client carl = w.login("carl");
  CHECK(w.found(carl, "csa_ref=CSA-0000002") == std::vector<Id>{w.second.casegroup});
  CHECK(w.found(carl, "nino=ZZ123456A") == std::vector<Id>{w.third});
  // A receiving parent's NINO finds their casegroup too.
  CHECK(w.found(carl, "nino=CD000001A") == std::vector<Id>{w.first.casegroup});
  CHECK(w.found(carl, "name=sam") == std::vector<Id>{w.first.casegroup, w.second.casegroup});
  CHECK(w.found(carl, "name=ZOE") == std::vector<Id>{w.third});
  CHECK(w.found(carl, "name=lukasz") == std::vector<Id>{w.third});    // a later word
  CHECK(w.found(carl, "name=%C5%81UK") == std::vector<Id>{w.third});  // "ŁUK"
  CHECK(w.found(carl, "name=zo%C3%AB%20%20l") == std::vector<Id>{w.third});
  CHECK(w.found(carl, "name=receiver") == std::vector<Id>{w.first.casegroup, w.second.casegroup});
  CHECK(w.found(carl, "name=nobody").empty());
  CHECK(w.found(carl, "segment=Enforcement") == std::vector<Id>{w.third});
  CHECK(w.found(carl, "name=sam&segment=Enforcement").empty());

  // A page at a time.
  const Reply page1 = carl.get("/api/v1/casegroups?name=sam&limit=1");
  REQUIRE(page1.status == 200);
  REQUIRE(page1.body["casegroups"].size() == 1);
  CHECK(page1.body["casegroups"][0]["csa_ref"] == "CSA-0000001");
  CHECK(page1.body["casegroups"][0]["paying_parent"] == "Sam Payer");
  const std::string next = page1.body["next_cursor"];
  const Reply page2 = carl.get("/api/v1/casegroups?name=sam&limit=1&cursor=" + next);
  CHECK(page2.body["casegroups"][0]["id"] == w.second.casegroup);
  CHECK(page2.body["next_cursor"].is_null());

  // Each search is recorded with what was searched for.
  CHECK_THAT(w.reads(), Catch::Contains("\"name\":\"ZOE\""));
}

TEST_CASE("http: a casegroup is read whole, and every read is recorded for an admin to list") {
  CasegroupWorld w;
  w.t.engine.ledger.record_payment(w.t.engine.ledger.account_of_casegroup(w.first.casegroup).id,
                                   1000, "2026-11-20", std::nullopt, std::nullopt);
  w.run();
  Client carl = w.login("carl");
  const std::string path = "/api/v1/casegroups/" + std::to_string(w.first.casegroup);
  const Reply r = carl.get(path);
  REQUIRE(r.status == 200);
  CHECK(r.body["csa_ref"] == "CSA-0000001");
  CHECK(r.body["paying_parent"]["name"] == "Sam Payer");
  CHECK(r.body["paying_parent"]["address"]["status"] == "confirmed");
  CHECK(r.body["cases"][0]["receiving_parent"]["name"] == "Alex Receiver");
  CHECK(r.body["payments"][0]["amount"] == 1000);
  CHECK(r.body["letters"].is_array());
  CHECK(r.body["work_items"].is_array());
  CHECK(r.body["schedule_versions"].is_array());
  CHECK(w.login("olga").get(path).status == 200);

  Client ada = w.login("ada");
  const Reply log = ada.get(path + "/access-log");
  REQUIRE(log.status == 200);
  REQUIRE(log.body["reads"].size() == 2);
  CHECK(log.body["reads"][0]["user"] == "olga");
  CHECK(log.body["reads"][1]["user"] == "carl");
  CHECK(log.body["reads"][1]["action"] == "view");
  // The admin's own look is recorded too.
  CHECK(ada.get(path + "/access-log").body["reads"][0]["action"] == "access_log");
}

TEST_CASE("http: every way into the casegroup routes that must be refused is refused") {
  CasegroupWorld w;
  w.run();
  const std::string path = "/api/v1/casegroups/" + std::to_string(w.first.casegroup);
  Client nobody(w.port);
  const std::string before = w.reads();
  CHECK(nobody.get("/api/v1/casegroups?name=sam").status == 401);
  CHECK(nobody.get(path).status == 401);
  CHECK(nobody.get(path + "/access-log").status == 401);
  Client ada = w.login("ada");
  CHECK(ada.get("/api/v1/casegroups?name=sam").status == 403);  // an admin does not read cases
  CHECK(ada.get(path).status == 403);
  CHECK(w.login("pat").get(path).status == 403);  // policy authors work on scripts, not people
  Client carl = w.login("carl");
  CHECK(carl.get(path + "/access-log").status == 403);  // only an admin sees who looked
  CHECK(carl.get("/api/v1/casegroups/999").status == 404);
  CHECK(carl.get("/api/v1/casegroups/abc").status == 404);
  CHECK(ada.get("/api/v1/casegroups/999/access-log").status == 404);
  CHECK(carl.get("/api/v1/casegroups").status == 400);  // no criterion
  CHECK(carl.get("/api/v1/casegroups?surname=x").status == 400);
  CHECK(carl.get("/api/v1/casegroups?name=sam&limit=0").status == 400);
  CHECK(carl.get("/api/v1/casegroups?name=sam&limit=101").status == 400);
  CHECK(carl.get("/api/v1/casegroups?segment=Nowhere").status == 400);
  CHECK(carl.get("/api/v1/casegroups?name=%20%20").status == 400);
  CHECK(carl.get("/api/v1/casegroups?name=sam&cursor=-1").status == 400);
  CHECK(w.reads() == before);  // nothing refused was recorded as read

  // Searches are limited per user; another user is not held up by it.
  for (int i = 0; i < CasegroupReads::kSearchesPerMinute; ++i) {
    REQUIRE(carl.get("/api/v1/casegroups?name=sam").status == 200);
  }
  const Reply limited = carl.get("/api/v1/casegroups?name=sam");
  CHECK(limited.status == 429);
  CHECK(limited.code() == "TOO_MANY");
  CHECK(w.login("cass").get("/api/v1/casegroups?name=sam").status == 200);
  w.on_server([&w] {
    w.t.clock.set(w.t.clock.now() + std::chrono::seconds(61));
    return 0;
  });
  CHECK(carl.get("/api/v1/casegroups?name=sam").status == 200);
}

TEST_CASE("http: a casegroup's trail of changes, newest first, with who and what changed") {
  CasegroupWorld w;
  {
    ActorScope actor(w.t.engine.db, "user:carl");
    w.t.engine.casegroups.set_segment(w.first.casegroup, "Enforcement");
    w.t.engine.casegroups.set_flag(w.first.casegroup, "manual_allocation", true);
    w.t.engine.casegroups.set_segment(w.second.casegroup, "Enforcement");
  }
  w.run();
  Client carl = w.login("carl");
  const std::string path = "/api/v1/casegroups/" + std::to_string(w.first.casegroup) + "/audit";
  const Reply r = carl.get(path);
  INFO(r.text);
  REQUIRE(r.status == 200);
  const auto& changes = r.body["changes"];
  REQUIRE(changes.size() >= 4);
  // Newest first: the flag, then the segment, whose entry has only the column that changed.
  CHECK(changes[0]["entity"] == "casegroup_flags");
  CHECK(changes[0]["action"] == "insert");
  CHECK(changes[0]["who"] == nlohmann::json{{"user", "carl"}});
  CHECK(changes[0]["after"]["flag"] == "manual_allocation");
  CHECK(changes[0]["why"].is_null());  // made in the test, by no command or route
  CHECK(changes[1]["entity"] == "casegroups");
  CHECK(changes[1]["action"] == "update");
  CHECK(changes[1]["before"] == nlohmann::json{{"segment", "Maintenance"}});
  CHECK(changes[1]["after"] == nlohmann::json{{"segment", "Enforcement"}});
  // The parents, cases and dues made with the casegroup are on its trail; nothing of the
  // second casegroup is.
  std::set<std::string> entities;
  for (const auto& c : changes) {
    entities.insert(c["entity"].get<std::string>());
    if (c["entity"] == "casegroups") CHECK(c["entity_id"] == w.first.casegroup);
    CHECK(c["id"].get<Id>() <= changes[0]["id"].get<Id>());
  }
  for (const char* e : {"clients", "addresses", "cases", "casegroups"}) {
    CHECK(entities.count(e) == 1);
  }
  // A page at a time, each page older than the one before.
  const Reply page1 = carl.get(path + "?limit=1");
  REQUIRE(page1.body["changes"].size() == 1);
  CHECK(page1.body["changes"][0] == changes[0]);
  const Reply page2 =
      carl.get(path + "?limit=1&cursor=" + page1.body["next_cursor"].get<std::string>());
  CHECK(page2.body["changes"][0] == changes[1]);
  // The trail is a read of personal data, and recorded as one.
  CHECK_THAT(w.reads(), Catch::Contains("audit"));
}

TEST_CASE("http: one SR with its fields, plan, notes and children, and the read recorded") {
  CasegroupWorld w;
  NewServiceRequest n = w.reversal();
  n.reason = "Write off in error";
  auto& srs = w.t.engine.srs;
  const Id sr = srs.create(n);
  srs.set_field(sr, "journal", "J-77");
  srs.add_steps(sr, {"Prepare", "Approve"}, "pending");
  srs.set_step(sr, "Prepare", "done");
  srs.add_note(sr, "carl", "Called the paying parent");
  n.parent_id = sr;
  const Id child = srs.create(n);
  w.run();
  Client carl = w.login("carl");
  const Reply r = carl.get("/api/v1/srs/" + std::to_string(sr));
  INFO(r.text);
  REQUIRE(r.status == 200);
  CHECK(r.body["reason"] == "Write off in error");
  CHECK(r.body["casegroup_id"] == w.first.casegroup);
  CHECK(r.body["fields"] == nlohmann::json{{"journal", "J-77"}});
  REQUIRE(r.body["steps"].size() == 2);
  CHECK(r.body["steps"][0]["name"] == "Prepare");
  CHECK(r.body["steps"][0]["status"] == "done");
  CHECK(r.body["steps"][1]["status"] == "pending");
  CHECK(r.body["notes"][0]["text"] == "Called the paying parent");
  REQUIRE(r.body["children"].size() == 1);
  CHECK(r.body["children"][0]["id"] == child);
  CHECK(carl.get("/api/v1/srs/" + std::to_string(child)).body["parent_id"] == sr);
  // Recorded against its casegroup, for an admin to list.
  const Reply log =
      w.login("ada").get("/api/v1/casegroups/" + std::to_string(w.first.casegroup) + "/access-log");
  CHECK(log.body["reads"].size() == 2);
  CHECK_THAT(w.reads(), Catch::Contains("{\"sr\":" + std::to_string(sr) + "}"));
}

TEST_CASE("http: every way into the audit trail and the SR route that must be refused is refused") {
  CasegroupWorld w;
  const Id sr = w.t.engine.srs.create(w.reversal());
  w.run();
  const std::string audit = "/api/v1/casegroups/" + std::to_string(w.first.casegroup) + "/audit";
  const std::string one = "/api/v1/srs/" + std::to_string(sr);
  const std::string before = w.reads();
  Client nobody(w.port);
  CHECK(nobody.get(audit).status == 401);
  CHECK(nobody.get(one).status == 401);
  Client ada = w.login("ada");
  CHECK(ada.get(audit).status == 403);
  CHECK(ada.get(one).status == 403);
  CHECK(w.login("pat").get(one).status == 403);
  Client carl = w.login("carl");
  CHECK(carl.get("/api/v1/casegroups/999/audit").status == 404);
  CHECK(carl.get("/api/v1/srs/999").status == 404);
  CHECK(carl.get("/api/v1/srs/x1").status == 404);
  CHECK(carl.get(audit + "?limit=0").status == 400);
  CHECK(carl.get(audit + "?cursor=abc").status == 400);
  CHECK(carl.get(audit + "?since=2026").status == 400);
  CHECK(carl.get(one + "?limit=1").status == 400);  // one SR takes no parameters
  CHECK(carl.get("/api/v1/casegroups/" + std::to_string(w.first.casegroup) + "?x=1").status == 400);
  CHECK(w.reads() == before);  // nothing refused was recorded as read
}

TEST_CASE("http: a signal wakes the casegroup's waiting procedures, and is refused otherwise") {
  CasegroupWorld w;
  w.t.procedure("listen", R"lua(
return procedure {
  name = "listen",
  run = function(ctx)
    local got = event.await{kind = "signal", names = {"cis_address"}, timeout_days = 30}
    return got.signal.by .. " " .. tostring(got.signal.data.postcode)
  end,
}
)lua");
  const Id waiting = w.t.runtime.start("listen", w.first.casegroup, {}, "carl");
  w.run();
  const std::string path =
      "/api/v1/casegroups/" + std::to_string(w.first.casegroup) + "/signals/cis_address";
  auto state = [&w] { return w.on_server([&w] { return w.t.dump("instances"); }); };
  const std::string before = state();
  Client nobody(w.port);
  CHECK(nobody.post(path, {{"data", {{"postcode", "M1 1AA"}}}}).status == 401);
  CHECK(w.login("ada").post(path).status == 403);  // an admin does not work cases
  CHECK(w.login("pat").post(path).status == 403);
  Client carl = w.login("carl");
  CHECK(carl.post("/api/v1/casegroups/999/signals/cis_address").status == 404);
  CHECK(
      carl.post("/api/v1/casegroups/" + std::to_string(w.second.casegroup) + "/signals/cis_address")
          .status == 404);  // nothing waits there
  const Reply nobody_waits = carl.post("/api/v1/casegroups/" + std::to_string(w.first.casegroup) +
                                       "/signals/client_contact");
  CHECK(nobody_waits.status == 404);
  CHECK_THAT(nobody_waits.message(), Catch::Contains("nothing was sent"));
  CHECK(carl.post("/api/v1/casegroups/" + std::to_string(w.first.casegroup) + "/signals/CIS")
            .status == 400);
  CHECK(carl.post(path, {{"data", {1, 2}}}).status == 400);
  CHECK(carl.post(path, {{"postcode", "M1 1AA"}}).status == 400);
  CHECK(state() == before);

  const Reply r = carl.post(path, {{"data", {{"postcode", "M1 1AA"}}}});
  INFO(r.text);
  REQUIRE(r.status == 200);
  REQUIRE(r.body["woken"].size() == 1);
  CHECK(r.body["woken"][0]["id"] == waiting);
  CHECK(r.body["woken"][0]["status"] == "completed");
  const std::string result =
      w.on_server([&w, waiting] { return w.t.runtime.store().get(waiting).result.value_or(""); });
  CHECK(result == "\"carl M1 1AA\"");
}

TEST_CASE("http: admins add users, change roles and teams, disable and reset passwords") {
  CasegroupWorld w;
  w.user("abe", "admin");
  w.run();
  const Client admin = w.login("ada");
  const auto patch = [](const Client& c, const std::string& name, const nlohmann::json& body) {
    return c.send("PATCH", "/api/v1/users/" + name, body.dump());
  };
  const nlohmann::json newcomer = {
      {"name", "nina"}, {"role", "caseworker"}, {"team", "Arrears"}, {"password", kPassword}};

  // Every way in that must be refused is, changes nothing, and hashes no password.
  const auto state = [&w] {
    return w.on_server([&w] {
      return w.t.dump("users") + w.t.dump("user_credentials") +
             std::to_string(w.t.count("SELECT count(*) FROM sessions WHERE revoked_at IS NULL")) +
             std::to_string(w.t.count("SELECT count(*) FROM audit"));
    });
  };
  const std::map<std::string, Client> others = {
      {"carl", w.login("carl")}, {"olga", w.login("olga")}, {"pat", w.login("pat")}};
  const std::string before = state();
  const std::size_t hashes = w.checks_started();
  Client nobody(w.port);
  CHECK(nobody.get("/api/v1/users").status == 401);
  CHECK(nobody.post("/api/v1/users", newcomer).status == 401);
  CHECK(patch(nobody, "carl", {{"role", "admin"}}).status == 401);
  for (const auto& [who, c] : others) {
    INFO(who);
    CHECK(c.get("/api/v1/users").status == 403);
    CHECK(c.post("/api/v1/users", newcomer).status == 403);
    CHECK(patch(c, who, {{"role", "admin"}}).status == 403);  // self-promotion
    CHECK(patch(c, "cass", {{"role", "admin"}}).status == 403);
    CHECK(c.post("/api/v1/users/cass/disable").status == 403);
    CHECK(c.post("/api/v1/users/cass/password", {{"password", kPassword}}).status == 403);
  }
  // An admin never acts on their own account: another admin must.
  CHECK(patch(admin, "ada", {{"role", "team_leader"}, {"team", "Arrears"}}).status == 403);
  CHECK(patch(admin, "ada", {{"team", "Arrears"}}).status == 403);
  CHECK(admin.post("/api/v1/users/ada/disable").status == 403);
  CHECK(admin.post("/api/v1/users/ada/password", {{"password", kPassword}}).status == 403);
  // Wrong names and bad bodies.
  CHECK(patch(admin, "ghost", {{"role", "caseworker"}}).status == 404);
  CHECK(admin.post("/api/v1/users/ghost/disable").status == 404);
  CHECK(admin.post("/api/v1/users/ghost/password", {{"password", kPassword}}).status == 404);
  CHECK(patch(admin, "carl", {{"role", "king"}}).status == 400);
  CHECK(patch(admin, "carl", {{"team", "Nowhere"}}).status == 400);
  CHECK(patch(admin, "carl", nlohmann::json::object()).status == 400);
  CHECK(patch(admin, "carl", {{"role", "admin"}, {"by", "abe"}}).status == 400);
  CHECK(admin.post("/api/v1/users/cass/password", {{"password", "short"}}).status == 400);
  CHECK(admin.post("/api/v1/users/cass/disable", {{"now", true}}).status == 400);
  CHECK(admin.post("/api/v1/users", {{"name", "two words"}, {"role", "caseworker"}}).status == 400);
  CHECK(admin.post("/api/v1/users", {{"name", "carl"}, {"role", "caseworker"}}).status == 409);
  CHECK(admin.post("/api/v1/users", {{"name", "x"}, {"role", "caseworker"}, {"password", "short"}})
            .status == 400);
  CHECK(w.checks_started() == hashes);
  CHECK(state() == before);

  // Add, with a password: the newcomer can log in.
  Reply r = admin.post("/api/v1/users", newcomer);
  INFO(r.text);
  REQUIRE(r.status == 201);
  CHECK(r.body["team"] == "Arrears");
  w.login("nina");
  CHECK(admin.post("/api/v1/users", {{"name", "norm"}, {"role", "operator"}}).status == 201);
  // Added once the password was hashed, off the loop: the audit still says by which route.
  CHECK(w.on_server([&w] {
    return w.t.count(
        "SELECT count(*) FROM audit WHERE entity = 'users' AND action = 'insert' AND "
        "actor = 'user:ada' AND why = 'POST /api/v1/users' AND "
        "json_extract(after, '$.name') IN ('nina', 'norm')");
  }) == 2);

  // A second admin changes the first's account; the audit shows both.
  const Client abe = w.login("abe");
  r = patch(abe, "ada", {{"team", "Arrears"}});
  REQUIRE(r.status == 200);
  CHECK(r.body["role"] == "admin");
  CHECK(r.body["team"] == "Arrears");
  CHECK(w.on_server([&w] {
    return w.t.count(
        "SELECT count(*) FROM audit WHERE entity = 'users' AND action = 'update' AND "
        "actor = 'user:abe' AND entity_id = (SELECT id FROM users WHERE name = 'ada') AND "
        "json_extract(after, '$.team') = 'Arrears'");
  }) == 1);
  r = patch(admin, "carl", {{"team", nullptr}});
  CHECK(r.body["team"].is_null());
  CHECK(r.body["role"] == "caseworker");
  r = patch(admin, "carl", {{"role", "team_leader"}, {"team", "Enforcement"}});
  CHECK(r.body["role"] == "team_leader");
  CHECK(r.body["team"] == "Enforcement");

  // A reset password ends the user's sessions; the new one works.
  const Client cass = w.login("cass");
  REQUIRE(admin.post("/api/v1/users/cass/password", {{"password", "a new long password"}}).status ==
          204);
  CHECK(cass.get("/api/v1/me").status == 401);
  Client again(w.port);
  CHECK(
      again.post("/api/v1/login", {{"name", "cass"}, {"password", "a new long password"}}).status ==
      200);

  // Disabled: no login, sessions ended; twice is a conflict.
  r = admin.post("/api/v1/users/cass/disable");
  REQUIRE(r.status == 200);
  CHECK(r.body["disabled_at"].is_string());
  CHECK(admin.post("/api/v1/users/cass/disable").status == 409);
  CHECK(
      again.post("/api/v1/login", {{"name", "cass"}, {"password", "a new long password"}}).status ==
      401);

  // An admin demoted by another is one no longer, at once.
  REQUIRE(patch(admin, "abe", {{"role", "operator"}}).status == 200);
  CHECK(abe.get("/api/v1/users").status == 403);
  r = admin.get("/api/v1/users");
  REQUIRE(r.status == 200);
  std::vector<std::string> names;
  for (const auto& u : r.body["users"]) names.push_back(u["name"]);
  CHECK(names ==
        std::vector<std::string>{"abe", "ada", "carl", "cass", "nina", "norm", "olga", "pat"});
}

}  // namespace casekit::test

namespace casekit::test {
namespace {

// A web folder of our own, with one thing of each kind the server must serve or refuse.
struct WebFolder {
  WebFolder() {
    const auto& web = root.path() / "web";
    write(web / "shell.html", "<!DOCTYPE html><title>{{title}}</title><script src={{script}}>");
    write(web / "app/pages/inbox.js", "export {};");
    write(web / "app/notes.txt", "not a type the server names");
    write(web / "node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css", "body{}");
    write(web / "node_modules/govuk-frontend/dist/govuk/assets/fonts/bold.woff2", "font");
    write(web / "node_modules/govuk-frontend/dist/govuk/components/fixture.html", "<p>x</p>");
    write(root.path() / "secret.js", "outside the web folder");
    std::filesystem::create_symlink(root.path() / "secret.js", web / "app/link.js");
  }
  static void write(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text;
  }
  std::filesystem::path web() const { return root.path() / "web"; }
  TempFolder root;
};

// A server of a WebFolder of its own, running, and a client of it.
struct WebWorld {
  WebWorld() : world(serving(folder)), client(world.port) { world.run(); }
  static http::ServiceOptions serving(const WebFolder& f) {
    http::ServiceOptions o;
    o.web = f.web();
    return o;
  }
  WebFolder folder;
  HttpWorld world;
  Client client;
};

}  // namespace

TEST_CASE("http: the web pages and their assets are served, with a page's security policy") {
  WebWorld w;
  const Client& c = w.client;

  Reply page = c.get("/inbox");
  CHECK(page.status == 200);
  CHECK(page.text == "<!DOCTYPE html><title>My work</title><script src=inbox>");
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(page.header("content-security-policy") == http::kPageSecurityPolicy);
  CHECK(page.header("content-security-policy").find("script-src 'self'") != std::string::npos);
  CHECK(page.header("content-security-policy").find("unsafe-inline") == std::string::npos);
  CHECK(page.header("x-frame-options") == "DENY");
  CHECK(page.header("x-content-type-options") == "nosniff");
  CHECK(page.header("referrer-policy") == "no-referrer");
  CHECK(page.header("cache-control") == "no-cache");

  // A page's {id} is its script's to read; the path opens the page's shell and script.
  CHECK(c.get("/work-items/12").text ==
        "<!DOCTYPE html><title>Work item</title><script src=work-item>");
  Reply home = c.get("/");
  CHECK(home.status == 302);
  CHECK(home.header("location") == "/inbox");

  Reply script = c.get("/assets/app/pages/inbox.js");
  CHECK(script.status == 200);
  CHECK(script.content_type == "text/javascript; charset=utf-8");
  // Not a page: the API's policy, which allows nothing.
  CHECK(script.header("content-security-policy") == "default-src 'none'; frame-ancestors 'none'");
  Reply css = c.get("/assets/govuk/govuk-frontend.min.css");
  CHECK(css.status == 200);
  CHECK(css.content_type == "text/css; charset=utf-8");
  CHECK(css.header("cache-control") == "public, max-age=3600");
  // The stylesheet's own absolute font paths.
  CHECK(c.get("/assets/fonts/bold.woff2").content_type == "font/woff2");
  // The cache header is set once, not once by the file and again by the server.
  CHECK(std::count_if(css.headers.begin(), css.headers.end(),
                      [](const auto& h) { return h.first == "cache-control"; }) == 1);
}

TEST_CASE("http: the web folder serves nothing outside its pages and assets") {
  WebWorld w;
  const Client& c = w.client;

  // A link out of the folder, a type the server names none for, a file that is no page, a
  // page by its file name, a missing asset, an npm package's HTML: each is an unknown path.
  for (const char* path :
       {"/assets/app/link.js", "/assets/app/notes.txt", "/secret.js", "/shell.html", "/inbox.html",
        "/assets/app/missing.js", "/assets/govuk", "/inbox/extra", "/work-items",
        "/assets/govuk/components/fixture.html"}) {
    INFO(path);
    const Reply r = c.get(path);
    CHECK(r.status == 404);
    CHECK(r.code() == "NOT_FOUND");
  }
  // Climbing, plain or escaped, and an empty segment, are refused before any file is looked for.
  for (const char* path : {"/assets/app/../../secret.js", "/assets/app/%2e%2e/%2e%2e/secret.js",
                           "/assets/app/..%2f..%2fsecret.js", "/assets/govuk/"}) {
    INFO(path);
    CHECK(c.get(path).code() == "BAD_PATH");
  }
  // Only GET: a page is not a route that takes a change.
  CHECK(c.post("/inbox").status == 404);
  // The API's paths are never files, even when no route has them.
  CHECK(c.get("/api/v1/inbox").code() == "NOT_FOUND");
}

TEST_CASE("http: without a web folder only the API is served") {
  HttpWorld w;
  w.run();
  Client c(w.port);
  CHECK(c.get("/inbox").code() == "NOT_FOUND");
  CHECK(c.get("/").code() == "NOT_FOUND");
  CHECK(c.get("/healthz").status == 200);
}

// The policy forbids inline script; a page that had any would simply not work in a browser,
// so the shell every page is may have none: scripts only by src, no on* handler attributes,
// no style attributes or elements.
TEST_CASE("http: the web pages have no inline script or style") {
  std::ifstream in(std::filesystem::path(CASEKIT_SOURCE_DIR) / "web" / "shell.html");
  const std::string html((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(html.find("{{script}}") != std::string::npos);
  CHECK_FALSE(
      std::regex_search(html, std::regex(R"(<script(?![^>]*\bsrc=)[^>]*>)", std::regex::icase)));
  CHECK_FALSE(std::regex_search(html, std::regex(R"(\son[a-z]+\s*=)", std::regex::icase)));
  CHECK_FALSE(std::regex_search(html, std::regex(R"(<style|\sstyle\s*=)", std::regex::icase)));
  // The test itself: each pattern finds what it is for.
  CHECK(std::regex_search(std::string("<script>alert(1)</script>"),
                          std::regex(R"(<script(?![^>]*\bsrc=)[^>]*>)", std::regex::icase)));
}

}  // namespace casekit::test

namespace casekit::test {

// What an item says about its reader completing it is what completing it would decide.
TEST_CASE("http: an item says whether its reader may complete it, and why not") {
  WorkWorld w;
  w.start();        // items 1 (caseworker), then 3 (approval, submitted by carl)
  w.start("Tina");  // items 2, then 4 (an approval submitted by "Tina")
  w.run();
  const Client carl = w.login("carl");
  const Client tina = w.login("tina");
  const Client tom = w.login("tom");
  CHECK(carl.get("/api/v1/work-items/1").body["may_complete"] == true);
  CHECK(carl.get("/api/v1/work-items/1").body["why_not"].is_null());
  REQUIRE(carl.post("/api/v1/work-items/1/complete",
                    {{"outcome", "submitted"}, {"fields", {{"journal", "J-1"}}}})
              .status == 200);
  REQUIRE(tina.post("/api/v1/work-items/2/complete",
                    {{"outcome", "submitted"}, {"fields", {{"journal", "J-2"}}}})
              .status == 200);

  // The listing by the procedure an item's instance runs.
  CHECK(tina.get("/api/v1/work-items?procedure=approval").body["total"] == 2);
  CHECK(tina.get("/api/v1/work-items?procedure=arrears_negotiation").body["total"] == 0);

  // Completed: nobody may complete it again.
  const Reply done = carl.get("/api/v1/work-items/1");
  CHECK(done.body["may_complete"] == false);
  CHECK(done.body["why_not"] == "work item 1 is already completed");

  // Segregation of duties: tina submitted item 4, so tom may approve it and she may not;
  // the listing says the same as the item, and completing agrees.
  const Reply mine = tina.get("/api/v1/work-items/4");
  CHECK(mine.body["may_complete"] == false);
  CHECK(mine.body["why_not"].get<std::string>().find("segregation of duties") != std::string::npos);
  CHECK(tom.get("/api/v1/work-items/4").body["may_complete"] == true);
  const Reply approvals = tina.get("/api/v1/work-items?kind=approval");
  for (const auto& item : approvals.body["items"]) {
    CHECK(item["may_complete"] == (item["id"] == 3));
  }
  CHECK(tina.post("/api/v1/work-items/4/complete", {{"outcome", "approved"}}).status == 403);

  // Claimed by someone else: not theirs to complete until it is released.
  REQUIRE(tom.post("/api/v1/work-items/3/claim").status == 200);
  const Reply claimed = tina.get("/api/v1/work-items/3");
  CHECK(claimed.body["may_complete"] == false);
  CHECK(claimed.body["why_not"].get<std::string>().find("claimed by tom") != std::string::npos);
  CHECK(tina.post("/api/v1/work-items/3/complete", {{"outcome", "approved"}}).status == 409);
}

}  // namespace casekit::test
