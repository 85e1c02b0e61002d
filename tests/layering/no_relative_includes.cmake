# Fails when a source in the libraries' folders (io/, algorithms/, runtime/)
# includes a header by a path that climbs out of its folder ("../x.h"), the
# one way around the per-library include roots. Run as
#   cmake -DSOURCE_DIR=<repo> -P no_relative_includes.cmake
file(GLOB_RECURSE sources ${SOURCE_DIR}/io/*.[ch] ${SOURCE_DIR}/algorithms/*.[ch]
     ${SOURCE_DIR}/runtime/*.[ch])
set(found "")
foreach(src ${sources})
  file(STRINGS ${src} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"[^\"]*\\.\\./")
  if(lines)
    list(APPEND found "${src}: ${lines}")
  endif()
endforeach()
list(LENGTH sources n)
if(found)
  string(REPLACE ";" "\n  " found "${found}")
  message(FATAL_ERROR "relative parent includes climb over the layering walls:\n  ${found}")
endif()
message(STATUS "no relative parent includes in ${n} library sources")
