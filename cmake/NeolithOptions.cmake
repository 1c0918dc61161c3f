# Compiler settings shared by every target of the project: warnings, sanitizers, ccache.

# ccache, when installed. The precompiled header needs ccache's "sloppiness" settings, or every
# translation unit that uses it is uncacheable ("Could not use precompiled header"): ccache
# cannot see the defines or time macros hidden in the PCH. The launcher passes them through
# `env` so that a plain `cmake -B ...` build caches as well as scripts/test does.
if(NOT CMAKE_CXX_COMPILER_LAUNCHER)
  find_program(NEOLITH_CCACHE ccache)
  find_program(NEOLITH_ENV env)
  if(NEOLITH_CCACHE AND NEOLITH_ENV)
    set(CMAKE_CXX_COMPILER_LAUNCHER "${NEOLITH_ENV}"
        "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
        "${NEOLITH_CCACHE}")
  elseif(NEOLITH_CCACHE)
    set(CMAKE_CXX_COMPILER_LAUNCHER "${NEOLITH_CCACHE}")
  endif()
endif()

# Build-tree-only interface target with our warning and sanitizer flags. It is linked
# PRIVATE (BUILD_INTERFACE) so consumers of the installed package never inherit it.
add_library(neolith_build_flags INTERFACE)
# -fPIC everywhere: the one precompiled header is shared by the library and the executables.
target_compile_options(neolith_build_flags INTERFACE -Wall -Wextra -Wpedantic -fPIC)
if(NEOLITH_WERROR)
  target_compile_options(neolith_build_flags INTERFACE -Werror)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 reports false positives on Asio's coroutine frames.
  target_compile_options(neolith_build_flags INTERFACE -Wno-mismatched-new-delete)
  if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # GCC 12's middle-end warnings fire on libstdc++'s own std::string code once inlined at -O2
    # and above (e.g. `std::string(a) + "x"`): GCC bugs 105329, 105651, 106199, 107138. They
    # cannot be fixed in our code; out-of-bounds accesses are caught at run time by the asan
    # preset instead. Debug builds (-O0) never emit them, so only optimized builds drop them.
    target_compile_options(neolith_build_flags INTERFACE
      $<$<NOT:$<CONFIG:Debug>>:-Wno-array-bounds -Wno-stringop-overflow -Wno-stringop-overread -Wno-restrict>)
  endif()
endif()

if(NEOLITH_SANITIZE)
  set(_san "-fsanitize=${NEOLITH_SANITIZE}" -fno-omit-frame-pointer)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # clang-14's function sanitizer breaks Asio's coroutine frames.
    list(APPEND _san -fno-sanitize=function)
  endif()
  if(NEOLITH_SANITIZE MATCHES "undefined")
    list(APPEND _san -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_san})
  add_link_options(${_san})
endif()

# Definitions that every user of the library must share: Asio and Beast are compiled once, in
# the library (src/core/boost_impl.cpp), not in each translation unit that includes them.
#
# Asio's recycling allocator keeps, per thread and per purpose (handlers, coroutine frames,
# posted functions...), BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE freed blocks for reuse; 2 by
# default. A request's path holds more than two blocks of one purpose at once (the caller's
# coroutine, the operation's own frame, the reader's frames; the socket operations and their
# completions through the strand), so with 2 most of them went back to malloc on every request
# (docs/performance.md). The size of thread_info_base depends on it: every translation unit
# that includes Asio must agree, hence a public definition.
set(NEOLITH_ASIO_CACHE_SIZE 8 CACHE STRING "BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE of neolith and its users")
set(NEOLITH_PUBLIC_DEFINITIONS
  BOOST_ASIO_SEPARATE_COMPILATION
  BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=${NEOLITH_ASIO_CACHE_SIZE})

# Install directories (CMAKE_INSTALL_INCLUDEDIR, ...), needed before src/ uses them in
# $<INSTALL_INTERFACE:...>.
include(GNUInstallDirs)
