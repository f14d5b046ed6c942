#include "engine/runtime/lint.hpp"

#include <lua.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "bindings/modules.hpp"
#include "engine/runtime/sandbox.hpp"

namespace casekit {
namespace {

// ---- tokens -------------------------------------------------------------------------------

enum class Tok { name, keyword, string, number, symbol, eof };

struct Token {
  Tok kind;
  std::string text;  // for strings: the contents without quotes (escapes left as written)
  int line;
};

const std::set<std::string, std::less<>> kKeywords = {
    "and",      "break",  "do",   "else", "elseif", "end",  "false", "for",
    "function", "goto",   "if",   "in",   "local",  "nil",  "not",   "or",
    "repeat",   "return", "then", "true", "until",  "while"};

// Length of a long bracket opener "[[", "[=[", ... at s[i], or 0.
size_t long_bracket(std::string_view s, size_t i, int* level) {
  if (i >= s.size() || s[i] != '[') return 0;
  size_t j = i + 1;
  int eq = 0;
  while (j < s.size() && s[j] == '=') ++j, ++eq;
  if (j < s.size() && s[j] == '[') {
    *level = eq;
    return j - i + 1;
  }
  return 0;
}

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      skip_space_and_comments();
      if (i_ >= s_.size()) break;
      out.push_back(next());
    }
    out.push_back({Tok::eof, "", line_});
    return out;
  }

 private:
  void newline_aware_advance(size_t to) {
    for (; i_ < to && i_ < s_.size(); ++i_) {
      if (s_[i_] == '\n') ++line_;
    }
  }

  void skip_long(int level) {
    const std::string close = "]" + std::string(level, '=') + "]";
    size_t end = s_.find(close, i_);
    newline_aware_advance(end == std::string_view::npos ? s_.size() : end + close.size());
  }

  void skip_space_and_comments() {
    for (;;) {
      while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) {
        if (s_[i_] == '\n') ++line_;
        ++i_;
      }
      if (i_ == 0 && s_.substr(0, 1) == "#") {  // shebang line
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
        continue;
      }
      if (s_.substr(i_, 2) != "--") return;
      i_ += 2;
      int level = 0;
      if (size_t n = long_bracket(s_, i_, &level)) {
        i_ += n;
        skip_long(level);
      } else {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      }
    }
  }

  Token next() {
    const int line = line_;
    const char c = s_[i_];
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i_;
      while (j < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '_'))
        ++j;
      std::string word(s_.substr(i_, j - i_));
      i_ = j;
      return {kKeywords.count(word) ? Tok::keyword : Tok::name, word, line};
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i_ + 1 < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_ + 1])))) {
      size_t j = i_;
      while (j < s_.size() &&
             (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '.' ||
              ((s_[j] == '+' || s_[j] == '-') &&
               (s_[j - 1] == 'e' || s_[j - 1] == 'E' || s_[j - 1] == 'p' || s_[j - 1] == 'P')))) {
        ++j;
      }
      std::string num(s_.substr(i_, j - i_));
      i_ = j;
      return {Tok::number, num, line};
    }
    if (c == '"' || c == '\'') {
      size_t j = i_ + 1;
      std::string text;
      while (j < s_.size() && s_[j] != c && s_[j] != '\n') {
        if (s_[j] == '\\' && j + 1 < s_.size()) {
          text += s_[j];
          if (s_[j + 1] == '\n') ++line_;
          ++j;
        }
        text += s_[j++];
      }
      i_ = std::min(j + 1, s_.size());
      return {Tok::string, text, line};
    }
    int level = 0;
    if (size_t n = long_bracket(s_, i_, &level)) {
      const size_t start = i_ + n;
      i_ = start;
      skip_long(level);
      const size_t len = i_ - start >= static_cast<size_t>(level) + 2 ? i_ - start - level - 2 : 0;
      return {Tok::string, std::string(s_.substr(start, len)), line};
    }
    static const char* const kLong[] = {
        "...", "..", "==", "~=", "<=", ">=", "//", "::", "<<", ">>"};
    for (const char* sym : kLong) {
      if (s_.substr(i_, std::strlen(sym)) == sym) {
        i_ += std::strlen(sym);
        return {Tok::symbol, sym, line};
      }
    }
    ++i_;
    return {Tok::symbol, std::string(1, c), line};
  }

  std::string_view s_;
  size_t i_ = 0;
  int line_ = 1;
};

// ---- what the sandbox offers --------------------------------------------------------------

const lua::Module* binding_module(std::string_view name) {
  for (const lua::Module* m : lua::all_modules()) {
    if (name == m->name) return m;
  }
  return nullptr;
}

// ---- the linter ---------------------------------------------------------------------------

class Linter {
 public:
  Linter(std::vector<Token> tokens, const LintCatalogues& catalogues, const SandboxSurface& surface)
      : t_(std::move(tokens)), cat_(catalogues), surface_(surface) {}

  std::vector<Diagnostic> run() {
    scopes_.emplace_back();
    for (p_ = 0; t_[p_].kind != Tok::eof; ++p_) step();
    std::stable_sort(out_.begin(), out_.end(),
                     [](const Diagnostic& a, const Diagnostic& b) { return a.line < b.line; });
    return out_;
  }

 private:
  const Token& at(size_t i) const { return t_[std::min(i, t_.size() - 1)]; }
  bool is(size_t i, Tok k, std::string_view text) const {
    return at(i).kind == k && at(i).text == text;
  }
  bool sym(size_t i, std::string_view s) const { return is(i, Tok::symbol, s); }
  bool kw(size_t i, std::string_view s) const { return is(i, Tok::keyword, s); }

  void report(int line, std::string message) { out_.push_back({line, std::move(message)}); }

  bool declared(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      if (it->count(name)) return true;
    }
    return false;
  }
  void declare(const std::string& name) { scopes_.back().insert(name); }
  void open_scope() {
    scopes_.emplace_back();
    for (auto& n : pending_) declare(n);
    pending_.clear();
  }
  void close_scope() {
    if (scopes_.size() > 1) scopes_.pop_back();
  }

  // Parameters of a function whose '(' is at token i; declares them in a new scope.
  void open_function_scope(size_t i, bool method) {
    open_scope();
    if (method) declare("self");
    if (!sym(i, "(")) return;
    for (size_t j = i + 1; j < t_.size() && !sym(j, ")"); ++j) {
      if (at(j).kind == Tok::name) declare(at(j).text);
    }
  }

  void step() {
    const Token& tok = at(p_);
    if (tok.kind == Tok::keyword) return keyword(tok);
    if (tok.kind == Tok::symbol) {
      if (tok.text == "{" || tok.text == "(" || tok.text == "[") brackets_.push_back(tok.text[0]);
      if ((tok.text == "}" || tok.text == ")" || tok.text == "]") && !brackets_.empty()) {
        brackets_.pop_back();
      }
      if (tok.text == "::") {  // label
        p_ += 2;
      }
      return;
    }
    if (tok.kind == Tok::name) name(tok);
  }

  void keyword(const Token& tok) {
    const std::string& k = tok.text;
    if (k == "local") {
      if (kw(p_ + 1, "function")) {
        declare(at(p_ + 2).text);
        const size_t paren = p_ + 3;
        p_ = paren;
        open_function_scope(paren, false);
        skip_params();
        return;
      }
      // local a <const>, b = ...: the names come into scope after the statement, but
      // declaring them now only misses `local x = x`, which is rare and harmless here.
      size_t j = p_ + 1;
      while (at(j).kind == Tok::name) {
        declare(at(j).text);
        ++j;
        if (sym(j, "<")) j += 3;  // attribute
        if (!sym(j, ",")) break;
        ++j;
      }
      p_ = j - 1;
      return;
    }
    if (k == "function") {
      // function a.b:c(...) / function name(...) / anonymous function(...)
      size_t j = p_ + 1;
      bool method = false;
      if (at(j).kind == Tok::name) {
        const Token& root = at(j);
        bool dotted = false;
        while (sym(j + 1, ".") || sym(j + 1, ":")) {
          dotted = true;
          method = method || sym(j + 1, ":");
          j += 2;
        }
        if (!declared(root.text) && !dotted) {
          report(root.line,
                 "assignment to global '" + root.text + "'; declare it with `local function`");
        } else if (!declared(root.text) && !known_global(root.text)) {
          report(root.line, "unknown global '" + root.text + "'");
        }
        ++j;
      }
      p_ = j;
      open_function_scope(j, method);
      skip_params();
      return;
    }
    if (k == "for") {
      size_t j = p_ + 1;
      while (at(j).kind == Tok::name || sym(j, ",")) {
        if (at(j).kind == Tok::name) pending_.push_back(at(j).text);
        ++j;
      }
      p_ = j - 1;
      return;
    }
    if (k == "do" || k == "then" || k == "repeat") return open_scope();
    if (k == "else") {
      close_scope();
      return open_scope();
    }
    if (k == "elseif" || k == "end") return close_scope();
    if (k == "until") {
      // The condition after `until` still sees the loop body's locals. Where it ends is
      // not known to a token scanner, so the body's names stay visible in the enclosing
      // block: that can only hide a mistake, never report a false one.
      auto body = std::move(scopes_.back());
      close_scope();
      scopes_.back().insert(body.begin(), body.end());
    }
    if (k == "goto") ++p_;
  }

  void skip_params() {
    while (t_[p_].kind != Tok::eof && !sym(p_, ")")) ++p_;
  }

  bool known_global(const std::string& n) const {
    // _ENV is the chunk's environment upvalue, not a global, but reads like one.
    return n == "_ENV" || surface_.globals.count(n) || binding_module(n) != nullptr;
  }

  bool is_field_name(size_t i) const {
    if (i > 0 && (sym(i - 1, ".") || sym(i - 1, ":"))) return true;
    // { key = value }: a name before '=' directly inside a table constructor.
    const bool in_table = !brackets_.empty() && brackets_.back() == '{';
    return in_table && sym(i + 1, "=") && i > 0 &&
           (sym(i - 1, "{") || sym(i - 1, ",") || sym(i - 1, ";"));
  }

  void name(const Token& tok) {
    if (is_field_name(p_) || declared(tok.text)) return;
    if (!known_global(tok.text)) {
      if (sym(p_ + 1, "=") && brackets_.empty()) {
        report(tok.line, "assignment to global '" + tok.text + "'; declare it local");
      } else {
        report(tok.line, "unknown global '" + tok.text + "'");
      }
      return;
    }
    if (!(sym(p_ + 1, ".") && at(p_ + 2).kind == Tok::name)) return;
    const std::string& member = at(p_ + 2).text;
    if (const lua::Module* m = binding_module(tok.text)) {
      const auto f = std::find_if(m->functions.begin(), m->functions.end(),
                                  [&](const lua::Function& f) { return member == f.name; });
      if (f == m->functions.end()) {
        report(tok.line, "unknown function '" + tok.text + "." + member + "'");
      } else {
        check_literals(*f, p_ + 3);
      }
    } else if (auto lib = surface_.libraries.find(tok.text); lib != surface_.libraries.end()) {
      if (!lib->second.count(member)) {
        report(tok.line, "'" + tok.text + "." + member + "' is not available in the sandbox");
      }
    }
  }

  // Top-level `key = "literal"` fields of the table constructor starting at token i.
  std::map<std::string, std::pair<std::string, int>> literal_fields(size_t i) const {
    std::map<std::string, std::pair<std::string, int>> fields;
    if (sym(i, "(")) ++i;
    if (!sym(i, "{")) return fields;
    int depth = 0;
    for (size_t j = i; at(j).kind != Tok::eof; ++j) {
      if (sym(j, "{") || sym(j, "(") || sym(j, "[")) ++depth;
      if (sym(j, "}") || sym(j, ")") || sym(j, "]")) {
        if (--depth == 0) break;
      }
      if (depth == 1 && at(j).kind == Tok::name && sym(j + 1, "=") &&
          at(j + 2).kind == Tok::string &&
          (sym(j + 3, ",") || sym(j + 3, ";") || sym(j + 3, "}"))) {
        fields[at(j).text] = {at(j + 2).text, at(j + 2).line};
      }
    }
    return fields;
  }

  // Checks the literal values of `f`'s table argument against the catalogues its declared
  // keys name (lua::Key::catalogue): the same declaration Args and the reference use.
  void check_literals(const lua::Function& f, size_t args) {
    const auto fields = literal_fields(args);
    using Field = const std::pair<std::string, int>*;
    Field process = nullptr, area = nullptr, sub_area = nullptr;
    for (const lua::Key& key : f.keys) {
      auto it = fields.find(key.name);
      if (it == fields.end()) continue;
      const auto& [value, line] = it->second;
      switch (key.catalogue) {
        case lua::Catalogue::none:
          break;
        case lua::Catalogue::sr_process:
          process = &it->second;
          break;
        case lua::Catalogue::sr_area:
          area = &it->second;
          break;
        case lua::Catalogue::sr_sub_area:
          sub_area = &it->second;
          break;
        case lua::Catalogue::sr_status:
          if (cat_.sr && !cat_.sr->status(value)) {
            report(line, "unknown SR status '" + value + "'");
          }
          break;
        case lua::Catalogue::inbox:
          if (cat_.inboxes && !cat_.inboxes->find(value)) {
            report(line, "unknown inbox '" + value + "' (not in " +
                             lua::catalogue_file(key.catalogue) + ")");
          }
          break;
        case lua::Catalogue::letter_template:
          if (const LetterTemplate* tpl = cat_.letters ? cat_.letters->find(value) : nullptr;
              cat_.letters && !tpl) {
            report(line, "unknown letter template '" + value + "' (not in " +
                             lua::catalogue_file(key.catalogue) + ")");
          } else if (tpl && tpl->sign_off) {
            report(line, "letter " + value + " is signed off before it is sent: send it with " +
                             "require(\"free_text_letter\").send, not directly");
          }
          break;
      }
    }
    if (cat_.sr) check_sr_type(process, area, sub_area);
  }

  // An SR type is checked whole when all three parts are literals; a sub area given without
  // a process (a search) must at least name one the catalogue has.
  void check_sr_type(const std::pair<std::string, int>* process,
                     const std::pair<std::string, int>* area,
                     const std::pair<std::string, int>* sub_area) {
    if (!sub_area) return;
    if (process && area) {
      if (!cat_.sr->find(process->first, area->first, sub_area->first)) {
        report(sub_area->second, "unknown SR type '" + process->first + " / " + area->first +
                                     " / " + sub_area->first + "' (not in " +
                                     lua::catalogue_file(lua::Catalogue::sr_sub_area) + ")");
      }
    } else if (!process) {
      const auto& types = cat_.sr->types();
      const bool any = std::any_of(types.begin(), types.end(), [&](const SrType& t) {
        return iequals(t.sub_area, sub_area->first);
      });
      if (!any) report(sub_area->second, "unknown SR sub area '" + sub_area->first + "'");
    }
  }

  std::vector<Token> t_;
  const LintCatalogues& cat_;
  const SandboxSurface& surface_;
  size_t p_ = 0;
  std::vector<std::set<std::string>> scopes_;
  std::vector<std::string> pending_;  // for-loop variables waiting for their `do`
  std::vector<char> brackets_;
  std::vector<Diagnostic> out_;
};

struct CloseState {
  void operator()(lua_State* L) const { lua_close(L); }
};

}  // namespace

std::vector<Diagnostic> lint_source(std::string_view source, const std::string& chunkname,
                                    const LintCatalogues& catalogues) {
  // Compile first, with Lua's own parser, in a bare state that runs nothing.
  std::unique_ptr<lua_State, CloseState> L(luaL_newstate());
  const std::string name = "@" + chunkname;
  if (luaL_loadbufferx(L.get(), source.data(), source.size(), name.c_str(), "t") != LUA_OK) {
    std::string message = lua_tostring(L.get(), -1);
    int line = 0;
    const std::string prefix = chunkname + ":";
    if (message.rfind(prefix, 0) == 0) {
      line = std::atoi(message.c_str() + prefix.size());
      message = message.substr(message.find(':', prefix.size()) + 2);
    }
    return {{line, "syntax error: " + message}};
  }
  // A scenario test file (NAME_test.lua, run by `casekit test`) also has `scenario`.
  const bool scenario_file =
      chunkname.size() >= 9 && chunkname.compare(chunkname.size() - 9, 9, "_test.lua") == 0;
  if (!scenario_file) return Linter(Lexer(source).run(), catalogues, sandbox_surface()).run();
  SandboxSurface surface = sandbox_surface();
  surface.globals.insert("scenario");
  return Linter(Lexer(source).run(), catalogues, surface).run();
}

}  // namespace casekit
