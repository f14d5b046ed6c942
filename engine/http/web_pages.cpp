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

// The types an asset may be. Not HTML: the shell is the only page, and npm packages hold
// HTML of their own (component fixtures) that is no page of ours.
const std::map<std::string, std::string>& content_types() {
  static const std::map<std::string, std::string> types = {
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

// The file `name` in `folder`, as it really is with links followed, and only if that is still
// inside the folder.
std::optional<std::string> read_inside(const std::filesystem::path& folder,
                                       const std::filesystem::path& name) {
  std::error_code ec;
  const auto base = std::filesystem::weakly_canonical(folder, ec);
  if (ec) return std::nullopt;
  const auto real = std::filesystem::weakly_canonical(folder / name, ec);
  if (ec || !inside(base, real) || !std::filesystem::is_regular_file(real, ec)) {
    return std::nullopt;
  }
  std::ifstream in(real, std::ios::binary);
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
  for (const Page& p : kPages) {
    if (!match_path(p.pattern, path)) continue;
    route = p.pattern;
    return page(p.title, p.script);
  }
  for (const Folder& f : kFolders) {
    const std::string_view prefix(f.prefix);
    if (path.compare(0, prefix.size(), prefix) != 0) continue;
    route = "/assets/*";
    return asset(root_ / f.folder, path.substr(prefix.size()), f.vendored);
  }
  return std::nullopt;
}

std::optional<Response> WebPages::page(const char* title, const char* script) const {
  auto shell = read_inside(root_, "shell.html");
  if (!shell) return std::nullopt;
  replace_all(*shell, "{{title}}", title);
  replace_all(*shell, "{{script}}", script);
  Response r;
  r.text = std::move(*shell);
  r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("Content-Security-Policy", kPageSecurityPolicy);
  return r;
}

std::optional<Response> WebPages::asset(const std::filesystem::path& folder,
                                        const std::string& name, bool vendored) const {
  const std::filesystem::path relative(name);
  const auto type = content_types().find(relative.extension().string());
  if (type == content_types().end()) return std::nullopt;
  auto content = read_inside(folder, relative);
  if (!content) return std::nullopt;
  Response r;
  r.text = std::move(*content);
  r.headers.emplace_back("Content-Type", type->second);
  // Vendored assets change only with the lockfile; ours change as the pages are edited.
  r.headers.emplace_back("Cache-Control", vendored ? "public, max-age=3600" : "no-cache");
  return r;
}

}  // namespace casekit::http
