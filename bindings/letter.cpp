// Lua module `letter`: renders a template from procedures/letters/ and queues the letter.
#include <nlohmann/json.hpp>

#include "bindings/modules.hpp"

namespace casekit::lua {
namespace {

Letters& letters(Args& a) {
  return host(a.L).engine.letters;
}

// Template fields: strings, integers, booleans, and lists/tables of them, at most a few
// levels deep (letters are not data dumps).
nlohmann::json to_json_value(Args& a, int idx, const std::string& path, int depth) {
  idx = lua_absindex(a.L, idx);
  switch (lua_type(a.L, idx)) {
    case LUA_TSTRING:
      return std::string(lua_tostring(a.L, idx));
    case LUA_TBOOLEAN:
      return lua_toboolean(a.L, idx) != 0;
    case LUA_TNUMBER:
      if (!lua_isinteger(a.L, idx)) {
        a.fail_field(1, "fields", path + " is a float; format amounts with money.format");
      }
      return std::to_string(lua_tointeger(a.L, idx));
    case LUA_TTABLE: {
      if (depth >= 4) a.fail_field(1, "fields", path + " nests too deeply");
      luaL_checkstack(a.L, 4, "letter fields");
      const lua_Unsigned n = lua_rawlen(a.L, idx);
      if (n > 0) {
        nlohmann::json list = nlohmann::json::array();
        for (lua_Unsigned i = 1; i <= n; ++i) {
          lua_rawgeti(a.L, idx, static_cast<lua_Integer>(i));
          list.push_back(to_json_value(a, -1, path + "[" + std::to_string(i) + "]", depth + 1));
          lua_pop(a.L, 1);
        }
        return list;
      }
      nlohmann::json obj = nlohmann::json::object();
      lua_pushnil(a.L);
      while (lua_next(a.L, idx)) {
        if (lua_type(a.L, -2) != LUA_TSTRING) {
          a.fail_field(1, "fields", path + " has a key that is not a string");
        }
        const std::string key = lua_tostring(a.L, -2);
        obj[key] = to_json_value(a, -1, path + "." + key, depth + 1);
        lua_pop(a.L, 1);
      }
      return obj;
    }
    default:
      a.fail_field(1, "fields", path + " is a " + luaL_typename(a.L, idx));
  }
}

constexpr Key kSendKeys[] = {{"template", "string", Catalogue::letter_template},
                             {"to", "Client or id"},
                             {"casegroup", "Casegroup or id"},
                             {"sr", "SR or id"},
                             {"fields", "table"},
                             {"signed_off", "integer"}};

int w_send(Args& a) {
  a.table(1, "letter");
  NewLetter l;
  l.template_code = a.field_string(1, "template");
  l.recipient_id = a.field_object(1, "to", kClientType);
  l.casegroup_id = a.opt_field_object(1, "casegroup", kCasegroupType);
  l.sr_id = a.opt_field_object(1, "sr", kSrType);
  l.signed_off = a.opt_field_integer(1, "signed_off");
  lua_settop(a.L, 1);
  lua_getfield(a.L, 1, "fields");
  if (!lua_isnil(a.L, 2)) {
    if (!lua_istable(a.L, 2)) a.fail_field(1, "fields", "table expected");
    l.fields = to_json_value(a, 2, "fields", 0);
    if (l.fields.is_array()) a.fail_field(1, "fields", "table of names expected, got a list");
  }
  push_object(a.L, kLetterType, letters(a).queue(l));
  return 1;
}

int w_get(Args& a) {
  const Id id = a.integer(1, "id");
  letters(a).get(id);
  push_object(a.L, kLetterType, id);
  return 1;
}

int w_templates(Args& a) {
  const auto& templates = host(a.L).engine.letter_catalogue.templates();
  push_list(a.L, templates, [&](const LetterTemplate& t) { push_string(a.L, t.code); });
  return 1;
}

Letter load_letter(Args& a) {
  return letters(a).get(a.object(1, kLetterType, "self"));
}

const Function kFunctions[] = {
    {"send", entry<w_send>, "letter.send{} -> Letter",
     "Renders the template for the recipient (a Client) and queues the letter. The template "
     "always has recipient_name, recipient_address, date and reference (the casegroup's, or the "
     "client's); "
     "`fields` supplies the rest. A field the template uses that has no value is an error "
     "naming the template and the field. A template signed off before it is sent (CMEL9271) "
     "needs `signed_off`, the `work_item` of a completed `letter_sign_off` task signed off by a "
     "senior manager on the same SR, whose `details` name this template, `free_text` and "
     "recipient, and that has not sent this letter to this recipient already (a sign-off "
     "sends once); anything else is refused.",
     Replay::record, kSendKeys},
    {"get", entry<w_get>, "letter.get(id) -> Letter", "The letter with this id."},
    {"templates", entry<w_templates>, "letter.templates() -> {string}",
     "Codes of the templates in procedures/letters/."},
};

const Property kProperties[] = {
    {"id", entry<object_id<kLetterType>>, "integer", "Letter id.", true},
    {"template", entry<field<load_letter, &Letter::template_code>>, "string",
     "Template code, e.g. CMSL6000.", true},
    {"status", entry<field<load_letter, &Letter::status>>, "string",
     "queued, fulfilled or failed."},
    {"body", entry<field<load_letter, &Letter::body>>, "string", "The rendered text."},
    {"recipient", entry<object_field<load_letter, &Letter::recipient_id, kClientType>>, "Client",
     "Who it is addressed to.", true},
};

const Type* const kTypes[] = {&kLetterType};

}  // namespace

const Type kLetterType{"Letter", "A rendered letter.", {}, kProperties};
const Module kLetterModule{"letter", "Letters from mustache templates.", kFunctions, kTypes};

}  // namespace casekit::lua
