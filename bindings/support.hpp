// The helper layer every binding file uses. Its sections and the files that implement them:
// the Host and the declarations (Function, Property, Type, Module: objects.cpp builds the
// tables), Args (args.cpp), results and engine objects (objects.cpp), and the error boundary
// (errors.cpp builds the error tables, dispatch.cpp runs and journals each call).
//
// A binding is a function `int w_<name>(Args& a)` for a module function (`w_charges` in
// payment.cpp is payment.charges; the file says the module), `m_<name>` for a method and
// `p_<name>` for a property computed by hand (`m_cg_set_flag`, `p_client_address`: a file
// holding several types prefixes the type). Most properties need no function: they are
// `field<>` templates (below). It reads its arguments through Args (which raises a clear error
// naming the function, the argument and the script line), calls the engine, and pushes its
// results. It is registered as `entry<w_...>`, the one error boundary that turns C++
// exceptions into Lua errors.
//
// Each module is a table of Function declarations with their signature and doc string;
// the Lua reference (docs/lua-api.md) is generated from the same tables.
#pragma once

#include <lua.hpp>

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "engine/core/error.hpp"
#include "engine/core/money.hpp"
#include "engine/domain/engine.hpp"

namespace casekit::lua {

// What a binding needs from whoever runs the script. Reached through the state's extra
// space, so it is never visible to scripts.
class Journal;
struct PendingWait;

// Starts procedure instances for the `procedures` module. The durable runtime implements
// it; the bindings cannot see the runtime, which is built on top of them.
class ProcedureStarter {
 public:
  virtual ~ProcedureStarter() = default;
  virtual bool procedure_exists(const std::string& procedure) = 0;
  // Creates a runnable instance (in the caller's transaction); it runs at the next drain.
  virtual Id create_instance(const std::string& procedure, std::optional<Id> casegroup,
                             const std::map<std::string, std::string>& params,
                             const std::string& started_by) = 0;
};

struct Host {
  Engine& engine;
  std::string actor;                            // audit actor and SR note author
  std::function<void(std::string_view)> print;  // where print() output goes
  // Set when the script is a procedure instance: every binding call is journaled.
  Journal* journal = nullptr;
  std::int64_t instance = 0;
  // Set where scripts may start procedures (instances, and scripts run by the scheduler).
  ProcedureStarter* procedures = nullptr;
  // Where log.* lines go (an spdlog level and the line); unset, straight to the engine log.
  std::function<void(int level, std::string_view line)> log = nullptr;
};

void set_host(lua_State* L, Host* host);
Host& host(lua_State* L);

// ---- declarations -------------------------------------------------------------------------

// How a call behaves when a procedure instance is replayed (bindings/journal.hpp).
enum class Replay {
  record,  // reads or writes the store, or the clock: journaled, its result replayed
  pure,    // depends only on its arguments: runs again, never journaled
  skip,    // an effect outside the store (logging): runs live, not at all on replay
  fixed,   // reads what an object is, which never changes once it exists (its id, an SR's
           // casegroup; the store refuses to change it): runs live, journaled only in
           // histories of format 1 (history.hpp)
};

// What a key of a table argument names in a policy catalogue, for the checks `casekit
// check` makes of literal values (engine/runtime/lint.cpp).
enum class Catalogue {
  none,
  sr_process,  // procedures/sr_catalogue.toml: an SR type is process / area / sub area
  sr_area,
  sr_sub_area,
  sr_status,
  inbox,            // procedures/inboxes.toml
  letter_template,  // procedures/letters/letters.toml
};

// The file under the engine's home holding that catalogue ("" for none): what the reference
// and the linter's messages name.
const char* catalogue_file(Catalogue c);

// One key a table argument may have. The keys declared for a function are the only ones
// Args::table accepts, the ones docs/lua-api.md lists, and the ones the linter checks
// against the catalogues: declared once here, so the three cannot drift.
struct Key {
  const char* name;
  const char* type;  // for the reference: "string", "Casegroup or id", "integer pence", ...
  Catalogue catalogue = Catalogue::none;
  const char* shown_default = nullptr;  // the signature shows `name=default`
};

struct Function {
  const char* name;
  lua_CFunction fn;  // null: written in Lua by the module's prelude (documented here)
  // "case.get(id) -> Casegroup". A function taking a table writes it "{}" and declares its
  // keys: "sr.create{} -> SR" reads in the reference "sr.create{process=, area=, ...} -> SR".
  const char* signature;
  const char* doc;
  Replay replay = Replay::record;  // methods read the store: always record (a test checks)
  std::span<const Key> keys = {};  // the keys of its table argument
};

// The signature with the table argument's keys written out.
std::string signature_of(const Function& f);

struct Property {
  const char* name;
  lua_CFunction get;  // receives the object, returns one value
  const char* type;
  const char* doc;
  // Never changes once the object exists (Replay::fixed): not recorded in the history. Only
  // for what the store refuses to change (schema 33's triggers), or what needs no store.
  bool fixed = false;
};

struct Type {
  const char* name;  // also the metatable name in the registry: "Casegroup"
  const char* doc;
  std::span<const Function> methods;
  std::span<const Property> properties;
};

struct Module {
  const char* name;
  const char* doc;
  std::span<const Function> functions;
  std::span<const Type* const> types;
};

// Creates the module table and leaves it on the stack. Object types register themselves
// the first time push_object meets them. `context`, if given, is what the module's
// functions read with Args::context (the scenario runner's `t` module: its world).
void push_module(lua_State* L, const Module& module, void* context = nullptr);
// Pushes one declared function as a closure named `qualified` ("procedure", "sr.create").
void push_function(lua_State* L, const char* qualified, const Function& f, void* context = nullptr);

// ---- arguments ----------------------------------------------------------------------------

class Args {
 public:
  explicit Args(lua_State* L) : L(L) {}
  lua_State* const L;

  int count() const { return lua_gettop(L); }
  bool none(int i) const { return lua_isnoneornil(L, i); }

  std::int64_t integer(int i, const char* name);
  // Pence: an integer, never a float, even a whole one (2.0 is refused).
  Pence pence(int i, const char* name);
  std::string string(int i, const char* name);
  std::optional<std::string> opt_string(int i, const char* name);
  bool boolean(int i, const char* name);
  // An ISO date string, checked.
  std::string date(int i, const char* name);
  std::optional<std::string> opt_date(int i, const char* name);
  // The id inside a typed userdata (Casegroup, SR, ...).
  Id object(int i, const Type& type, const char* name);
  // Either an object of that type or its integer id.
  Id object_or_id(int i, const Type& type, const char* name);

  // Table arguments: check the table, refuse keys the function does not declare (catches
  // typos: its Function's `keys`), then read fields by name. A table nested in a field
  // gives its keys itself.
  void table(int i, const char* name);
  void table(int i, const char* name, std::span<const Key> keys);
  std::string field_string(int t, const char* key);
  std::optional<std::string> opt_field_string(int t, const char* key);
  std::optional<std::string> opt_field_date(int t, const char* key);
  std::string field_date(int t, const char* key);
  std::optional<std::int64_t> opt_field_integer(int t, const char* key);
  std::optional<double> opt_field_number(int t, const char* key);
  // A table of names to strings (numbers are taken as their text); empty when absent.
  std::map<std::string, std::string> opt_field_string_map(int t, const char* key);
  Pence field_pence(int t, const char* key);
  std::optional<Pence> opt_field_pence(int t, const char* key);
  std::optional<bool> opt_field_boolean(int t, const char* key);
  // A list of strings under `key`; empty when the key is absent.
  std::vector<std::string> field_string_list(int t, const char* key);
  std::optional<Id> opt_field_object(int t, const char* key, const Type& type);
  Id field_object(int t, const char* key, const Type& type);

  // What the module was pushed with (push_module's `context`); throws if it has none.
  template <typename T>
  T& context() {
    return *static_cast<T*>(context_pointer());
  }

  // Raises "bad argument #i 'name' to 'fn' (message)".
  [[noreturn]] void fail(int i, const char* name, const std::string& message);
  [[noreturn]] void fail_field(int t, const char* key, const std::string& message);

 private:
  const char* type_name(int i);
  void* context_pointer();
  // Pushes t[key]; returns its Lua type. The caller pops.
  int push_field(int t, const char* key);
  std::string function_name();
};

// When a wait that lasts t[key] = `days` ends: that many days from the engine clock's now,
// 0 to 3660 (about ten years) or the field is refused. wait{}, task.await and event.await
// share it.
Instant days_from_now(Args& a, int t, const char* key, std::int64_t days);

// ---- results ------------------------------------------------------------------------------

void push_object(lua_State* L, const Type& type, Id id);
void push_string(lua_State* L, std::string_view s);
void push_optional(lua_State* L, const std::optional<std::string>& s);
void push_optional(lua_State* L, const std::optional<std::int64_t>& n);
// Reads the id of the object at index i; the caller guarantees its type (methods).
Id self_id(lua_State* L);

inline void push_value(lua_State* L, const std::string& s) {
  push_string(L, s);
}
inline void push_value(lua_State* L, bool b) {
  lua_pushboolean(L, b);
}
inline void push_value(lua_State* L, std::int64_t n) {
  lua_pushinteger(L, n);
}
inline void push_value(lua_State* L, const std::optional<std::string>& s) {
  push_optional(L, s);
}

// t[key] = value for the table on top of the stack.
template <typename T>
void set_field(lua_State* L, const char* key, const T& value) {
  push_value(L, value);
  lua_setfield(L, -2, key);
}

// ---- property getters -------------------------------------------------------------------------
//
// Most properties are one field of the record behind the object. `Load` is the type's
// `Record load(Args&)` (it checks `self` and reads the store):
//   {"segment", entry<field<load_casegroup, &Casegroup::segment>>, "string", "..."}

template <auto Load, auto Member>
int field(Args& a) {
  const auto record = Load(a);
  push_value(a.L, std::invoke(Member, record));
  return 1;
}

// A field holding another object's id (or an optional one, pushed as nil when absent).
template <auto Load, auto Member, const Type& Target>
int object_field(Args& a) {
  const auto record = Load(a);  // the id below refers into it
  const auto& id = std::invoke(Member, record);
  if constexpr (std::is_same_v<std::decay_t<decltype(id)>, std::optional<Id>>) {
    if (!id) {
      lua_pushnil(a.L);
      return 1;
    }
    push_object(a.L, Target, *id);
  } else {
    push_object(a.L, Target, id);
  }
  return 1;
}

// The object's own id, without a trip to the store.
template <const Type& Self>
int object_id(Args& a) {
  lua_pushinteger(a.L, a.object(1, Self, "self"));
  return 1;
}
// Runs `push_one` for each element and stores it in a new array table.
template <typename Range, typename F>
void push_list(lua_State* L, const Range& items, F push_one) {
  lua_createtable(L, static_cast<int>(std::size(items)), 0);
  lua_Integer n = 0;
  for (const auto& item : items) {
    luaL_checkstack(L, 4, "building a list");
    push_one(item);
    lua_rawseti(L, -2, ++n);
  }
}

// ---- the error boundary ---------------------------------------------------------------------

// Error objects are tables {code=, message=, where=} whose tostring is "where message",
// with this metatable (errors.cpp).
inline constexpr const char* kErrorMetatable = "casekit.error";
void push_error(lua_State* L, ErrorCode code, const std::string& message);
void push_error(lua_State* L, const char* code, const std::string& message);

// Thrown by Args: its message already names the function and argument.
class ArgError : public Error {
 public:
  explicit ArgError(const std::string& message) : Error(ErrorCode::bad_argument, message) {}
};

// The name the running binding was registered under ("case.get", "SR:add_note").
std::string qualified_name(lua_State* L);
// The declaration of the running binding (null for a property getter; a fixed property's
// is kFixedProperty). A binding
// closure's upvalues are its qualified name, its Function and the module's context.
const Function* declaration_of(lua_State* L);
// What a fixed property's getter is declared as: a read journaled as Replay::fixed says.
extern const Function kFixedProperty;
// "file:line" of the nearest Lua frame, or "" when there is none.
std::string script_line(lua_State* L);

// Runs a binding: journaled when a procedure instance is running (replayed calls return
// their recorded result without running), and with C++ errors turned into Lua errors.
int call_binding(lua_State* L, int (*impl)(Args&));

template <int (*Impl)(Args&)>
int entry(lua_State* L) {
  return call_binding(L, Impl);
}

// A wait: live, `impl` does the wait's own work (a work item, say) and says what ends it;
// the call is journaled as pending and the coroutine yields. The value the instance is
// resumed with (or, on replay, the recorded one) is what the wait returns.
int call_wait(lua_State* L, PendingWait (*impl)(Args&));

template <PendingWait (*Impl)(Args&)>
int wait_entry(lua_State* L) {
  return call_wait(L, Impl);
}

}  // namespace casekit::lua
