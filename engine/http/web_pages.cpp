#include "engine/http/web_pages.hpp"

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <system_error>

namespace casekit::http {
namespace {

struct Page {
  const char* pattern;  // as a route's: "/work-items/{id}"
  const char* title;    // the page's <title> and heading until its script draws it
  const char* script;   // its module, web/app/pages/SCRIPT.js
};

// Each screen. All are web/shell.html with their title and script; a page's script reads the
// path's {id} itself.
constexpr Page kPages[] = {
    {"/sign-in", "Sign in", "sign-in"},
    {"/inbox", "My work", "inbox"},
    {"/work-items/{id}", "Work item", "work-item"},
    {"/team", "Team", "team"},
    {"/casegroups", "Find a casegroup", "casegroups"},
    {"/casegroups/{id}", "Casegroup", "casegroup"},
    {"/console", "Console", "console"},
};

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
}

// Where each asset prefix reads from, under the web root; vendored ones come from npm.
struct Folder {
  const char* prefix;
  const char* folder;
  bool vendored;
};
constexpr Folder kFolders[] = {
    {"/assets/app/", "app", false},
    // GOV.UK Frontend's stylesheet names its fonts and crest at /assets/fonts and /assets/images.
    {"/assets/fonts/", "node_modules/govuk-frontend/dist/govuk/assets/fonts", true},
    {"/assets/images/", "node_modules/govuk-frontend/dist/govuk/assets/images", true},
    {"/assets/govuk/", "node_modules/govuk-frontend/dist/govuk", true},
    {"/assets/moj/", "node_modules/@ministryofjustice/frontend/moj", true},
};

const std::map<std::string, std::string>& content_types() {
  static const std::map<std::string, std::string> types = {
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".woff", "font/woff"},
      {".json", "application/json"},
  };
  return types;
}

bool inside(const std::filesystem::path& folder, const std::filesystem::path& file) {
  const auto rel = file.lexically_relative(folder);
  return !rel.empty() && *rel.begin() != "..";
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

const char* const kPageSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'";

WebPages::WebPages(std::filesystem::path root) : root_(std::move(root)) {}

bool WebPages::assets_installed() const {
  std::error_code ec;
  return std::filesystem::exists(
      root_ / "node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css", ec);
}

std::optional<Response> WebPages::serve(const std::string& path, std::string& route) const {
  if (path == "/") {
    route = "/";
    Response r;
    r.status = 302;
    r.headers.emplace_back("Location", "/inbox");
    return r;
  }
  for (const Page& page : kPages) {
    if (!match_path(page.pattern, path)) continue;
    route = page.pattern;
    auto shell = file(root_, "shell.html", false);
    if (shell) {
      replace_all(*shell->text, "{{title}}", page.title);
      replace_all(*shell->text, "{{script}}", page.script);
    }
    return shell;
  }
  for (const Folder& f : kFolders) {
    const std::string_view prefix(f.prefix);
    if (path.compare(0, prefix.size(), prefix) != 0) continue;
    route = "/assets/*";
    // The shell is the only page: npm packages also hold HTML (component fixtures), which
    // is no page of ours.
    if (std::filesystem::path(path).extension() == ".html") return std::nullopt;
    return file(root_ / f.folder, path.substr(prefix.size()), f.vendored);
  }
  return std::nullopt;
}

std::optional<Response> WebPages::file(const std::filesystem::path& folder, const std::string& name,
                                       bool vendored) const {
  const std::filesystem::path relative(name);
  const auto type = content_types().find(relative.extension().string());
  if (type == content_types().end()) return std::nullopt;
  // The file as it really is, links followed: it must still be inside its folder.
  std::error_code ec;
  const auto base = std::filesystem::weakly_canonical(folder, ec);
  if (ec) return std::nullopt;
  const auto real = std::filesystem::weakly_canonical(folder / relative, ec);
  if (ec || !inside(base, real) || !std::filesystem::is_regular_file(real, ec)) {
    return std::nullopt;
  }
  auto content = read_file(real);
  if (!content) return std::nullopt;
  Response r;
  r.text = std::move(*content);
  r.headers.emplace_back("Content-Type", type->second);
  // Vendored assets change only with the lockfile; ours change as the pages are edited.
  r.headers.emplace_back("Cache-Control", vendored ? "public, max-age=3600" : "no-cache");
  if (type->first == ".html") {
    r.headers.emplace_back("Content-Security-Policy", kPageSecurityPolicy);
  }
  return r;
}

}  // namespace casekit::http
