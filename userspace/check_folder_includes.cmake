# Holds every `#include "X/..."` in userspace/ to the dependencies userspace/CMakeLists.txt declares.
#   cmake -DDEPENDENCIES=<build>/userspace/folder-dependencies.cmake -DUSERSPACE=<source>/userspace \
#         -P userspace/check_folder_includes.cmake
# The ctest layering.folder_includes runs it (label unit, no root).
#
# Why a check beside the include roots: the include roots make an include fail to compile unless its
# folder is a dependency of the including library or a PUBLIC dependency of one of those, and the
# layer order in CMakeLists.txt keeps all of them below the folder. What still compiles, and what
# this check refuses:
# - an include of a folder reached only through another library's PUBLIC dependency: intercept/
#   would compile `#include "net/..."` through proxy/ without declaring net, and the declared graph
#   would drift from the real one until a change to proxy/ broke intercept/;
# - a header including a folder its library declares PRIVATE: it compiles inside the folder and
#   fails later, in a user that does not link that folder;
# - a relative `#include "../x/..."`, which walks around the include roots;
# - a folder of userspace/ with no library (its code would be built by nothing).

cmake_minimum_required(VERSION 3.25)

foreach(required DEPENDENCIES USERSPACE)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "check_folder_includes.cmake needs -D${required}=...")
  endif()
endforeach()
include("${DEPENDENCIES}")

set(problems "")

# Every userspace folder name, library or not, so that an include of exe/ is caught too.
file(GLOB entries RELATIVE "${USERSPACE}" "${USERSPACE}/*")
set(all_folders "")
foreach(entry IN LISTS entries)
  if(IS_DIRECTORY "${USERSPACE}/${entry}")
    list(APPEND all_folders ${entry})
    if(NOT entry IN_LIST SHADOWAI_FOLDERS AND NOT entry STREQUAL "exe")
      list(APPEND problems "userspace/${entry}/: no shadowai_folder_library(${entry} ...) in userspace/CMakeLists.txt")
    endif()
  endif()
endforeach()

# Checks the quoted includes of FILE (relative to userspace/) against ALLOWED folders.
function(check_includes file allowed why)
  file(STRINGS "${USERSPACE}/${file}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line IN LISTS lines)
    string(REGEX MATCH "\"([^\"]*)\"" quoted "${line}")
    set(path "${CMAKE_MATCH_1}")
    if(path MATCHES "(^|/)\\.\\./")
      list(APPEND problems "userspace/${file}: #include \"${path}\": relative paths walk around the include roots")
      continue()
    endif()
    if(NOT path MATCHES "^([^/]+)/")
      continue()  # a generated skeleton ("observe.skel.h")
    endif()
    set(folder "${CMAKE_MATCH_1}")
    if(NOT folder IN_LIST all_folders)
      continue()  # include/shadowai/, reached through shadowai_shared_headers
    endif()
    if(NOT folder IN_LIST allowed)
      list(APPEND problems "userspace/${file}: #include \"${path}\": ${folder}/ is not ${why}")
    endif()
  endforeach()
  set(problems "${problems}" PARENT_SCOPE)
endfunction()

set(checked 0)
foreach(folder IN LISTS SHADOWAI_FOLDERS)
  set(for_headers ${folder} ${SHADOWAI_${folder}_PUBLIC})
  set(for_sources ${for_headers} ${SHADOWAI_${folder}_PRIVATE})
  file(GLOB headers RELATIVE "${USERSPACE}" "${USERSPACE}/${folder}/*.h")
  file(GLOB sources RELATIVE "${USERSPACE}" "${USERSPACE}/${folder}/*.cpp")
  foreach(file IN LISTS headers)
    check_includes("${file}" "${for_headers}" "a PUBLIC dependency of ${folder}/ (its users need it too)")
    math(EXPR checked "${checked} + 1")
  endforeach()
  foreach(file IN LISTS sources)
    check_includes("${file}" "${for_sources}" "a declared dependency of ${folder}/")
    math(EXPR checked "${checked} + 1")
  endforeach()
endforeach()
foreach(source IN LISTS SHADOWAI_EXECUTABLES)
  check_includes("exe/${source}" "${SHADOWAI_exe_${source}}" "a declared dependency of exe/${source}")
  math(EXPR checked "${checked} + 1")
endforeach()
file(GLOB mains RELATIVE "${USERSPACE}/exe" "${USERSPACE}/exe/*")
foreach(main IN LISTS mains)
  if(NOT main IN_LIST SHADOWAI_EXECUTABLES)
    list(APPEND problems "userspace/exe/${main}: no shadowai_executable(... ${main} ...) in userspace/CMakeLists.txt")
  endif()
endforeach()

if(problems)
  list(LENGTH problems count)
  list(JOIN problems "\n  " text)
  message(FATAL_ERROR "${count} problem(s) with the folder layers (declare the dependency in "
                      "userspace/CMakeLists.txt if it points down the layers, else move the code):\n  ${text}")
endif()
message(STATUS "${checked} files in userspace/ include only folders they declare")
