# The layering test: every #include "engine/<folder>/..." in engine/<layer>/ must name the
# layer itself or one below it, as CMakeLists.txt's casekit_layer() calls declare them.
# CMake's link order alone would not catch an upward include of a header-only piece.
#
#   cmake -DROOT=<source dir> -DLAYERS=<layer:allowed,allowed|...> -P check_layers.cmake
#
# A folder under engine/ that is not a declared layer is refused too, so a new folder
# cannot escape the check. And only the layers in LUA_LAYERS may include <lua.hpp> or call
# the Lua C API (lua_*, luaL_*): the rest of the engine never touches a Lua state.
cmake_minimum_required(VERSION 3.25)
if(NOT ROOT OR NOT LAYERS)
  message(FATAL_ERROR "usage: cmake -DROOT=DIR -DLAYERS=SPEC -P check_layers.cmake")
endif()

string(REPLACE "|" ";" layers "${LAYERS}")
string(REPLACE "," ";" lua_layers "${LUA_LAYERS}")
set(declared "")
foreach(layer IN LISTS layers)
  string(REPLACE ":" ";" parts "${layer}")
  list(GET parts 0 name)
  list(GET parts 1 allowed)
  string(REPLACE "," ";" allowed "${allowed}")
  set(allowed_${name} ${allowed})
  list(APPEND declared ${name})
endforeach()

set(violations 0)
file(GLOB folders LIST_DIRECTORIES true RELATIVE "${ROOT}/engine" "${ROOT}/engine/*")
foreach(folder IN LISTS folders)
  if(NOT IS_DIRECTORY "${ROOT}/engine/${folder}")
    continue()
  endif()
  if(NOT folder IN_LIST declared)
    message(SEND_ERROR "engine/${folder}/ is not a layer: declare it with casekit_layer()")
    math(EXPR violations "${violations} + 1")
    continue()
  endif()
  file(GLOB_RECURSE files "${ROOT}/engine/${folder}/*.cpp" "${ROOT}/engine/${folder}/*.hpp")
  foreach(file IN LISTS files)
    if(NOT folder IN_LIST lua_layers)
      file(STRINGS "${file}" lua_uses REGEX "#[ \t]*include[ \t]*<lua|(^|[^A-Za-z0-9_])luaL?_[a-z]+[ \t]*\\(")
      if(lua_uses)
        file(RELATIVE_PATH shown "${ROOT}" "${file}")
        list(GET lua_uses 0 first)
        string(STRIP "${first}" first)
        message(SEND_ERROR "${shown} calls the Lua C API (\"${first}\"), which only the "
                           "layers ${LUA_LAYERS} may do")
        math(EXPR violations "${violations} + 1")
      endif()
    endif()
    file(STRINGS "${file}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"engine/[^/\"]+/")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"engine/([^/\"]+)/.*" "\\1" target
                           "${line}")
      if(NOT target IN_LIST allowed_${folder})
        file(RELATIVE_PATH shown "${ROOT}" "${file}")
        message(SEND_ERROR
                "${shown} includes engine/${target}/, a layer above or beside ${folder} "
                "(it may include from: ${allowed_${folder}})")
        math(EXPR violations "${violations} + 1")
      endif()
    endforeach()
  endforeach()
endforeach()

if(violations GREATER 0)
  message(FATAL_ERROR "${violations} layering violation(s)")
endif()
list(LENGTH declared count)
message(STATUS "layers: ${count} layers, no include reaches above its own")
