// casekit serve: the long-running engine on real time, and with --http the API on the same
// loop.
#include <spdlog/spdlog.h>

#include <iostream>

#include "engine/cli/cli.hpp"
#include "engine/http/service.hpp"
#include "engine/schedule/server.hpp"
#include "engine/store/backup.hpp"

namespace casekit::cli {

void add_serve_command(CLI::App& app, Context& ctx) {
  struct Options {
    int poll = 5;
    std::string http;
    bool secure_cookie = false;
    bool no_web = false;
    std::string outbox = "outbox";
  };
  auto o = std::make_shared<Options>();
  auto* serve =
      app.add_subcommand("serve", "Fire timers and schedules on real time until SIGINT or SIGTERM");
  serve->add_option("--poll", o->poll, "seconds between checks for work other processes made")
      ->check(CLI::Range(1, 3600));
  serve
      ->add_option("--http", o->http,
                   "also serve the HTTP API (docs/http-api.md) on ADDR:PORT; a bare PORT is on "
                   "127.0.0.1, and port 0 picks a free one")
      ->expected(0, 1)
      ->default_str("127.0.0.1:8080");
  serve->add_flag("--secure-cookie", o->secure_cookie,
                  "mark the session cookie Secure (a TLS proxy is in front)");
  serve->add_flag("--no-web", o->no_web,
                  "serve the API only, not the web inbox's pages (web/ in the casekit home)");
  serve
      ->add_option("--outbox", o->outbox,
                   "folder POST /api/v1/letters/fulfil writes letters into (as `letters fulfil`)")
      ->capture_default_str();
  serve->callback([&ctx, o, serve] {
    Engine& e = ctx.open();
    // One serve per database: two would fire every timer and schedule twice.
    const ServeLock lock(ctx.db_path);
    if (dynamic_cast<const SimulatedClock*>(&e.clock)) {
      throw Error(ErrorCode::invalid,
                  "this database has a simulated clock; move it with `casekit clock advance`");
    }
    Schedules schedules(e, load_schedules(e.home.scripts() / "schedules.toml", e.home.scripts()),
                        {}, &ctx.runtime());
    Server server(e, schedules, ctx.runtime(), std::chrono::seconds(o->poll), print_line);
    std::unique_ptr<http::Service> api;
    if (serve->count("--http") > 0) {
      http::ServiceOptions options;
      if (!o->http.empty()) options.listen = o->http;
      options.secure_cookie = o->secure_cookie;
      options.outbox = o->outbox;
      if (!o->no_web) options.web = e.home.web();
      api = std::make_unique<http::Service>(server.io(), e, ctx.runtime(), schedules, options,
                                            [&server] { return server.stopping(); });
      api->start();
      server.on_stop([&api] { api->stop(); }, [&api] { return api->busy() > 0; });
      const auto at = api->local_endpoint();
      std::cout << "serve: http on " << at.address().to_string() << ":" << at.port() << std::endl;
      if (!o->no_web && !http::WebPages(options.web).assets_installed()) {
        spdlog::warn(
            "serve: the web pages' GOV.UK Frontend assets are not installed in {}; "
            "run `make web`",
            (options.web / "node_modules").string());
      }
    } else if (o->secure_cookie || o->no_web) {
      throw Error(ErrorCode::bad_argument, "--secure-cookie and --no-web are for --http");
    }
    server.run();
  });
}

}  // namespace casekit::cli
