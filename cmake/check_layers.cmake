# The layering test: every #include of a layer's folder ("engine/<layer>/..." or, for a layer
# outside engine/, "<folder>/...", e.g. "bindings/...") must name the including layer itself
# or one below it, as CMakeLists.txt's casekit_layer() calls declare them. CMake's link order
# alone would not catch an upward include of a header-only piece.
#
#   cmake -DROOT=<source dir> -DLAYERS=<layer:folder:allowed,allowed|...> -P check_layers.cmake
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
set(declared_folders "")
foreach(layer IN LISTS layers)
  string(REPLACE ":" ";" parts "${layer}")
  list(GET parts 0 name)
  list(GET parts 1 folder)
  list(GET parts 2 allowed)
  string(REPLACE "," ";" allowed "${allowed}")
  set(allowed_${name} ${allowed})
  set(folder_${name} ${folder})
  set(layer_of_${folder} ${name})
  list(APPEND declared ${name})
  list(APPEND declared_folders ${folder})
endforeach()

# The layer an include names, from the longest declared folder it starts with; empty for an
# include of no layer (a system header, a test helper).
function(layer_of_include path out)
  set(found "")
  set(found_length 0)
  foreach(folder IN LISTS declared_folders)
    string(LENGTH "${folder}/" length)
    string(SUBSTRING "${path}" 0 ${length} head)
    if(head STREQUAL "${folder}/" AND length GREATER found_length)
      set(found ${layer_of_${folder}})
      set(found_length ${length})
    endif()
  endforeach()
  set(${out} "${found}" PARENT_SCOPE)
endfunction()

set(violations 0)
# Layers in the order they are declared, lowest first, so the messages come in a stable order.
foreach(name IN LISTS declared)
  set(folder ${folder_${name}})
  file(GLOB_RECURSE files "${ROOT}/${folder}/*.cpp" "${ROOT}/${folder}/*.hpp")
  foreach(file IN LISTS files)
    file(RELATIVE_PATH shown "${ROOT}" "${file}")
    if(NOT name IN_LIST lua_layers)
      file(STRINGS "${file}" lua_uses REGEX "#[ \t]*include[ \t]*<lua|(^|[^A-Za-z0-9_])luaL?_[a-z]+[ \t]*\\(")
      if(lua_uses)
        list(GET lua_uses 0 first)
        string(STRIP "${first}" first)
        message(SEND_ERROR "${shown} calls the Lua C API (\"${first}\"), which only the "
                           "layers ${LUA_LAYERS} may do")
        math(EXPR violations "${violations} + 1")
      endif()
    endif()
    file(STRINGS "${file}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"[^\"]+\"")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]+)\".*" "\\1" path "${line}")
      layer_of_include("${path}" target)
      if(target AND NOT target IN_LIST allowed_${name})
        message(SEND_ERROR
                "${shown} includes ${folder_${target}}/, a layer above or beside ${name} "
                "(it may include from: ${allowed_${name}})")
        math(EXPR violations "${violations} + 1")
      endif()
    endforeach()
  endforeach()
endforeach()

file(GLOB folders LIST_DIRECTORIES true RELATIVE "${ROOT}/engine" "${ROOT}/engine/*")
foreach(folder IN LISTS folders)
  if(IS_DIRECTORY "${ROOT}/engine/${folder}" AND NOT "engine/${folder}" IN_LIST declared_folders)
    message(SEND_ERROR "engine/${folder}/ is not a layer: declare it with casekit_layer()")
    math(EXPR violations "${violations} + 1")
  endif()
endforeach()

if(violations GREATER 0)
  message(FATAL_ERROR "${violations} layering violation(s)")
endif()
list(LENGTH declared count)
message(STATUS "layers: ${count} layers, no include reaches above its own")
