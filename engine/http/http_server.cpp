#include "engine/http/http_server.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <optional>

#include "engine/core/error.hpp"

namespace casekit::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// One client connection: read a request, answer it, and again while the client keeps it
// alive. It owns itself through the shared_ptr its pending operation holds.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, HttpServer& server)
      : stream_(std::move(socket)), server_(&server) {
    beast::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) request_.remote = peer.address().to_string();
  }
  ~Connection() {
    if (server_) server_->forget(this);
  }

  void start() { read(); }
  bool busy() const { return busy_; }

  // The server is at its connection limit: say so, and close.
  void refuse() {
    busy_ = true;
    write(error_response(503, "BUSY", "too many connections; try again"), false, {});
  }

  // The server is stopping: an idle connection closes now, a busy one after its answer.
  void stop() {
    if (!busy_) close();
  }

  // The server is going away before its connections.
  void detach() {
    server_ = nullptr;
    close();
  }

 private:
  void read() {
    if (!server_) return;
    parser_.emplace();
    parser_->body_limit(server_->limits_.body);
    parser_->header_limit(static_cast<std::uint32_t>(server_->limits_.header));
    busy_ = false;
    stream_.expires_after(server_->limits_.read_timeout);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (!server_) return;
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return close();
    }
    busy_ = true;
    started_ = std::chrono::steady_clock::now();
    if (ec == bhttp::error::body_limit) {
      return write(error_response(413, "TOO_LARGE",
                                  "the body is over the limit of " +
                                      std::to_string(server_->limits_.body) + " bytes"),
                   false, {});
    }
    if (ec == bhttp::error::header_limit) {
      return write(error_response(431, "HEADERS_TOO_LARGE",
                                  "the request line and headers are over the limit of " +
                                      std::to_string(server_->limits_.header) + " bytes"),
                   false, {});
    }
    if (ec) {
      return write(error_response(400, "BAD_REQUEST", "the request is not valid HTTP/1.1"), false,
                   {});
    }
    auto& msg = parser_->get();
    request_.method = std::string(msg.method_string());
    const std::string_view target(msg.target().data(), msg.target().size());
    const auto q = target.find('?');
    request_.path = std::string(target.substr(0, q));
    request_.query.clear();
    request_.body = std::move(msg.body());
    request_.content_type = std::string(msg[bhttp::field::content_type]);
    request_.cookie = std::string(msg[bhttp::field::cookie]);
    request_.authorization = std::string(msg[bhttp::field::authorization]);
    request_.csrf = std::string(msg["X-CSRF-Token"]);
    const bool keep = msg.keep_alive();
    if (q != std::string_view::npos && !parse_query(target.substr(q + 1), request_.query)) {
      return write(error_response(400, "BAD_QUERY", "the query string has a malformed escape"),
                   keep, {});
    }
    server_->router_.handle(request_,
                            [self = shared_from_this(), keep](Response r, const Answered& a) {
                              self->write(std::move(r), keep, a);
                            });
  }

  void write(Response response, bool keep, const Answered& answered) {
    if (!server_) return;
    keep = keep && !server_->stopping_;
    auto msg = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(response.status), 11);
    for (const auto& [name, value] : response.headers) msg->insert(name, value);
    // Every answer's security headers; a page sets its own policy and a file its own caching.
    const auto fallback = [&msg](const char* name, const char* value) {
      if (msg->find(name) == msg->end()) msg->set(name, value);
    };
    msg->set(bhttp::field::server, "casekit");
    fallback("Cache-Control", "no-store");
    fallback("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    msg->set("X-Content-Type-Options", "nosniff");
    msg->set("X-Frame-Options", "DENY");
    msg->set("Referrer-Policy", "no-referrer");
    if (response.text) {
      msg->body() = std::move(*response.text);
    } else if (!response.body.is_null()) {
      msg->set(bhttp::field::content_type, "application/json");
      msg->body() = response.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      msg->body() += "\n";
    }
    msg->keep_alive(keep);
    msg->prepare_payload();
    log(response.status, answered);
    stream_.expires_after(server_->limits_.read_timeout);
    bhttp::async_write(stream_, *msg,
                       [self = shared_from_this(), msg, keep](beast::error_code ec, std::size_t) {
                         if (ec) return self->close();
                         if (!keep || !self->server_ || self->server_->stopping_) {
                           return self->finish();
                         }
                         self->read();
                       });
  }

  // One JSON line per answer: never the path or query (ids and searches can name people),
  // never a header (cookies and tokens), only the route's pattern and who asked.
  void log(int status, const Answered& answered) {
    const auto ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_);
    nlohmann::json line = {{"method", request_.method.empty() ? "-" : request_.method},
                           {"route", answered.route},
                           {"status", status},
                           {"ms", std::round(ms.count() * 10) / 10},
                           {"user", answered.user},
                           {"remote", request_.remote}};
    server_->access_log_->info(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    if (server_->observer_) {
      server_->observer_(request_.method.empty() ? "-" : request_.method, answered.route, status,
                         ms.count() / 1000);
    }
  }

  // After the last answer: stop sending, and read (and drop) what the client still sends
  // until it closes, so that closing with its unread bytes does not reset the connection
  // and lose the answer before the client has read it (a 413 is sent before the body).
  void finish() {
    busy_ = false;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(1));
    drain();
  }

  void drain() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->close();
                              self->drain();
                            });
  }

  void close() {
    busy_ = false;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::array<char, 4096> discard_{};
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Request request_;  // lives until its answer is written: a deferred handler reads it late
  HttpServer* server_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  bool busy_ = false;
};

HttpServer::HttpServer(asio::io_context& io, const tcp::endpoint& at, Router& router, Limits limits)
    : acceptor_(io), router_(router), limits_(limits) {
  beast::error_code ec;
  acceptor_.open(at.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(at, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw Error(ErrorCode::io, "cannot listen on " + at.address().to_string() + ":" +
                                   std::to_string(at.port()) + ": " + ec.message());
  }
  // Its own logger, not the default one: access lines are data for operators' tools, one
  // JSON object a line, whatever --log-level says about the engine's own messages.
  access_log_ =
      std::make_shared<spdlog::logger>("access", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  access_log_->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","access":%v})",
                           spdlog::pattern_time_type::utc);
  access_log_->set_level(spdlog::level::info);
  access_log_->flush_on(spdlog::level::info);
}

HttpServer::~HttpServer() {
  for (auto& [raw, weak] : connections_) {
    if (auto c = weak.lock()) c->detach();
  }
}

tcp::endpoint HttpServer::local_endpoint() const {
  return acceptor_.local_endpoint();
}

std::size_t HttpServer::busy() const {
  std::size_t n = 0;
  for (const auto& [raw, weak] : connections_) {
    if (auto c = weak.lock(); c && c->busy()) ++n;
  }
  return n;
}

void HttpServer::start() {
  accept();
}

void HttpServer::accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) spdlog::warn("http: accept: {}", ec.message());
      if (!stopping_ && acceptor_.is_open()) accept();
      return;
    }
    auto c = std::make_shared<Connection>(std::move(socket), *this);
    connections_.emplace(c.get(), c);
    if (connections_.size() > limits_.max_connections) {
      c->refuse();
    } else {
      c->start();
    }
    accept();
  });
}

void HttpServer::stop() {
  if (stopping_) return;
  stopping_ = true;
  beast::error_code ignored;
  acceptor_.close(ignored);
  // Copied first: a connection that closes may leave the map while we walk it.
  std::vector<std::shared_ptr<Connection>> live;
  for (auto& [raw, weak] : connections_) {
    if (auto c = weak.lock()) live.push_back(std::move(c));
  }
  for (auto& c : live) c->stop();
}

tcp::endpoint parse_endpoint(const std::string& text) {
  // A bare port is on loopback: listening wider is a choice made by naming the address.
  const auto colon = text.rfind(':');
  if (colon + 1 == text.size() || text.empty()) {
    throw Error(ErrorCode::bad_argument, "give the address as HOST:PORT, not '" + text + "'");
  }
  std::string host = colon == std::string::npos ? "" : text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost" || host.empty()) host = "127.0.0.1";
  const std::string port_text = colon == std::string::npos ? text : text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, pec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (pec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    throw Error(ErrorCode::bad_argument, "'" + port_text + "' is not a port number");
  }
  beast::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) throw Error(ErrorCode::bad_argument, "'" + host + "' is not an IP address");
  return {address, static_cast<unsigned short>(port)};
}

}  // namespace casekit::http
