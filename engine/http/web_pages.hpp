// The web inbox and console's files: the pages (web/shell.html with each screen's title and
// script: the script fills it from the JSON API), their scripts and styles (web/app/), and
// the GOV.UK and MoJ Frontend assets that `make web` installs from the lockfile
// (web/node_modules/). Nothing here knows a rule: a page only calls the API.
//
// What may be served is fixed here, not by what lies in the folder: a page is one of the
// table's paths, an asset is under one of three prefixes with an extension this server
// names a type for, and every file resolves inside its own folder.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "engine/http/router.hpp"

namespace casekit::http {

class WebPages {
 public:
  explicit WebPages(std::filesystem::path root);

  // The answer for a GET of `path` (a plain path: Router checks that first), or nothing when
  // it names no page or asset. `route` is set to what the access log and metrics show: the
  // page's pattern, or "/assets/*".
  std::optional<Response> serve(const std::string& path, std::string& route) const;

  // False when `make web` has not installed GOV.UK Frontend: pages would be unstyled.
  bool assets_installed() const;
  const std::filesystem::path& root() const { return root_; }

 private:
  std::optional<Response> page(const char* title, const char* script) const;
  std::optional<Response> asset(const std::filesystem::path& folder, const std::string& name,
                                bool vendored) const;
  std::filesystem::path root_;
};

// The Content-Security-Policy of a page: its own scripts, styles, fonts and images, and
// calls to its own origin; no inline script or style, no framing, no form posted elsewhere.
extern const char* const kPageSecurityPolicy;

}  // namespace casekit::http
