// `casekit check`: compiles a script and lints what can be known without running it:
// unknown globals, assignments to globals, unknown module functions, and SR types or
// letter codes that are written as literals but are not in the catalogues.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/domain/catalogue.hpp"

namespace casekit {

struct Diagnostic {
  int line = 0;
  std::string message;
};

struct LintCatalogues {
  const SrCatalogue* sr = nullptr;
  const LetterCatalogue* letters = nullptr;
  const InboxCatalogue* inboxes = nullptr;
};

// Diagnostics in line order; a syntax error is reported alone.
std::vector<Diagnostic> lint_source(std::string_view source, const std::string& chunkname,
                                    const LintCatalogues& catalogues);

}  // namespace casekit
