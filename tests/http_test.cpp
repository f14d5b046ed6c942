// The HTTP API over loopback: a real HttpServer on 127.0.0.1 and an ephemeral port, its loop
// on a thread of its own, and a plain Beast client. Each way in that must be refused is
// tried, and what it must not change is checked.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <future>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "engine/http/service.hpp"
#include "tests/cli_support.hpp"
#include "tests/test_support.hpp"

namespace casekit::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

constexpr const char* kPassword = "correct horse battery";

struct Reply {
  int status = 0;
  nlohmann::json body;
  std::string text;
  std::string content_type;
  std::string set_cookie;
  std::string retry_after;

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

  Reply send(const std::string& method, const std::string& target, const std::string& body = "",
             const std::vector<std::pair<std::string, std::string>>& headers = {}) const {
    asio::io_context io;
    tcp::socket socket(io);
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
    service = std::make_unique<http::Service>(io, t.engine, o);
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
    return on_server([this, table] { return t.count(table); });
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

  TestEngine t;
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
  w.user("carl", "caseworker", "Arrears");
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
    return w.t.count("sessions WHERE token_hash = '" + token + "' OR csrf_hash = '" + c.csrf + "'");
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
  w.t.engine.users.add("nopass", "caseworker");
  w.t.engine.accounts.disable("gone");
  w.run();
  Client c(w.port);
  std::set<std::string> bodies;
  for (const auto& [name, password] : std::vector<std::pair<std::string, std::string>>{
           {"nobody", kPassword},                   // an unknown name
           {"nopass", kPassword},                   // a user with no password yet
           {"gone", kPassword},                     // a disabled user, right password
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
  const auto out = cli.dir.path() / "serve.out";
  const auto err = cli.dir.path() / "serve.err";
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child: the program, with its output in files; exits if exec fails.
    if (chdir(cli.dir.path().c_str()) != 0) _exit(127);
    std::freopen(out.c_str(), "w", stdout);
    std::freopen(err.c_str(), "w", stderr);
    setenv("CASEKIT_HOME", kSourceDir.c_str(), 1);
    execl(CASEKIT_BINARY, CASEKIT_BINARY, "serve", "--http", "127.0.0.1:0", "--poll", "1",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kills the child whatever happens below, so that no test leaves a server running.
  struct Reaper {
    pid_t pid;
    bool reaped = false;
    ~Reaper() {
      if (!reaped) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
      }
    }
  } reaper{pid};

  unsigned short port = 0;
  const std::regex listening("serve: http on 127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 500 && port == 0; ++i) {
    std::smatch m;
    const std::string text = slurp(out);
    if (std::regex_search(text, m, listening)) {
      port = static_cast<unsigned short>(std::stoi(m[1].str()));
    } else {
      std::this_thread::sleep_for(20ms);
    }
  }
  INFO(slurp(err));
  REQUIRE(port != 0);
  CHECK(Client(port).get("/healthz").status == 200);
  CHECK(Client(port).get("/readyz").status == 200);
  CHECK(Client(port).post("/api/v1/login", {{"name", "nobody"}, {"password", kPassword}}).status ==
        401);

  REQUIRE(kill(pid, SIGTERM) == 0);
  int status = -1;
  for (int i = 0; i < 500; ++i) {
    if (waitpid(pid, &status, WNOHANG) == pid) {
      reaper.reaped = true;
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  REQUIRE(reaper.reaped);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // One access line per answer: the route's pattern and status, never the password.
  const std::string log = slurp(err);
  CHECK(log.find(R"("route":"/api/v1/login","status":401)") != std::string::npos);
  CHECK(log.find(kPassword) == std::string::npos);
}

}  // namespace casekit::test
