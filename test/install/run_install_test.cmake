# The CTest test `install_consumer` (cmake -P): installs a neolith build tree into a scratch
# prefix, checks the installed files and the exported targets, then configures, builds and runs
# the consumer project in test/install/consumer against that prefix only.
#
# Variables (-D...):
#   NEOLITH_BUILD_DIR  the neolith build tree to install (already built)
#   CONSUMER_DIR       test/install/consumer
#   WORK_DIR           scratch directory (deleted and recreated)
#   GENERATOR          CMake generator for the consumer
#   CXX_COMPILER       the compiler neolith was built with
#   BUILD_TYPE         the configuration (may be empty)
#   LAUNCHER           compiler launcher, its items separated by '|' (may be empty)
#   SANITIZE           neolith's NEOLITH_SANITIZE: the consumer must use the same runtime
#   EXPECTED_VERSION   the project's version
#   SHARED             neolith's BUILD_SHARED_LIBS
#   LIBDIR             neolith's CMAKE_INSTALL_LIBDIR
#   DEB                ON: instead of `cmake --install`, build the Debian package with `cpack -G DEB`,
#                      check its control fields and files, and extract it (`dpkg -x`) into a
#                      scratch root; the consumer then builds against <root>/usr (CTest test
#                      `deb_package`)
cmake_minimum_required(VERSION 3.25)

foreach(var IN ITEMS NEOLITH_BUILD_DIR CONSUMER_DIR WORK_DIR GENERATOR CXX_COMPILER EXPECTED_VERSION LIBDIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_install_test.cmake: ${var} is not set")
  endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/consumer-build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# Runs a command; stops the test with its output when it fails. OUT receives stdout+stderr.
function(run step out)
  execute_process(COMMAND ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE output ERROR_VARIABLE output
    TIMEOUT 500)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install_consumer: ${step} failed (${rc}):\n  ${ARGN}\n${output}")
  endif()
  message(STATUS "install_consumer: ${step}: ok")
  set(${out} "${output}" PARENT_SCOPE)
endfunction()

# 1. Install.
set(config_args "")
if(BUILD_TYPE)
  set(config_args --config "${BUILD_TYPE}")
endif()
if(DEB)
  get_filename_component(cmake_bin "${CMAKE_COMMAND}" DIRECTORY)
  set(package_dir "${WORK_DIR}/package")
  set(cpack_args "")
  if(BUILD_TYPE)
    set(cpack_args -C "${BUILD_TYPE}")
  endif()
  run("cpack -G DEB" ignored "${cmake_bin}/cpack" -G DEB --config "${NEOLITH_BUILD_DIR}/CPackConfig.cmake"
      -B "${package_dir}" ${cpack_args})
  file(GLOB debs "${package_dir}/*.deb")
  list(LENGTH debs deb_count)
  if(NOT deb_count EQUAL 1)
    message(FATAL_ERROR "install_consumer: expected one .deb in ${package_dir}, found: ${debs}")
  endif()
  run("dpkg-deb --field" fields dpkg-deb --field "${debs}" Package Version Depends)
  foreach(needed IN ITEMS "Package: neolith" "Version: ${EXPECTED_VERSION}" "libc6" "libssl-dev"
                          "libboost-json1.81-dev" "libhiredis-dev")
    string(FIND "${fields}" "${needed}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "install_consumer: the package's control fields lack '${needed}':\n${fields}")
    endif()
  endforeach()
  run("dpkg-deb --control" ignored dpkg-deb --control "${debs}" "${WORK_DIR}/control")
  foreach(script IN ITEMS postinst preinst prerm postrm)
    if(EXISTS "${WORK_DIR}/control/${script}")
      message(FATAL_ERROR "install_consumer: the package has a ${script} script (the unit must stay disabled)")
    endif()
  endforeach()
  run("dpkg -x" ignored dpkg -x "${debs}" "${WORK_DIR}/root")
  set(prefix "${WORK_DIR}/root/usr")
  set(unit "${prefix}/lib/systemd/system/neolith.service")
  if(NOT EXISTS "${unit}")
    message(FATAL_ERROR "install_consumer: the package has no systemd unit ${unit}")
  endif()
  file(READ "${unit}" unit_text)
  string(FIND "${unit_text}" "ExecStart=/usr/bin/neolith daemon" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "install_consumer: the unit does not start /usr/bin/neolith daemon:\n${unit_text}")
  endif()
else()
  run("cmake --install" ignored "${CMAKE_COMMAND}" --install "${NEOLITH_BUILD_DIR}" --prefix "${prefix}" ${config_args})
endif()

# 2. The installed layout.
set(cmake_dir "${prefix}/${LIBDIR}/cmake/neolith")
if(SHARED)
  set(library "${prefix}/${LIBDIR}/libneolith.so")
else()
  set(library "${prefix}/${LIBDIR}/libneolith.a")
endif()
foreach(f IN ITEMS
    "${prefix}/include/neolith/neolith.hpp" "${prefix}/include/neolith/core/error.hpp"
    "${prefix}/include/neolith/protocol/messages.hpp" "${prefix}/bin/neolith" "${library}"
    "${cmake_dir}/neolithConfig.cmake" "${cmake_dir}/neolithConfigVersion.cmake"
    "${cmake_dir}/neolith-targets.cmake")
  if(NOT EXISTS "${f}")
    message(FATAL_ERROR "install_consumer: ${f} was not installed")
  endif()
endforeach()

# 3. The exported targets must not leak what only the build tree needs: warning flags, the
#    precompiled header, the build-flags target, sanitizers, or paths into the build/source tree.
file(GLOB target_files "${cmake_dir}/neolith-targets*.cmake")
file(REAL_PATH "${NEOLITH_BUILD_DIR}" build_real)
get_filename_component(source_real "${CONSUMER_DIR}/../../.." REALPATH)
foreach(f IN LISTS target_files)
  file(READ "${f}" content)
  foreach(bad IN ITEMS "-Werror" "-Wall" "-Wextra" "-Wpedantic" "neolith_build_flags" "neolith_pch"
                       "cmake_pch" "PRECOMPILE" "-fsanitize" "${build_real}" "${source_real}/")
    string(FIND "${content}" "${bad}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "install_consumer: ${f} leaks '${bad}'")
    endif()
  endforeach()
endforeach()

# 4. Configure the consumer against the prefix only.
set(flags "")
if(SANITIZE)
  # neolith was built with -fsanitize=...: a consumer links the same runtime.
  set(flags "-fsanitize=${SANITIZE} -fno-omit-frame-pointer")
endif()
set(configure_args
  -S "${CONSUMER_DIR}" -B "${consumer_build}" -G "${GENERATOR}"
  "-DCMAKE_PREFIX_PATH=${prefix}"
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_CXX_FLAGS=${flags}"
  "-DCMAKE_EXE_LINKER_FLAGS=${flags}"
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
if(BUILD_TYPE)
  list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}")
endif()
if(LAUNCHER)
  string(REPLACE "|" ";" launcher "${LAUNCHER}")
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER_LAUNCHER=${launcher}")
endif()
run("configure the consumer" configure_output "${CMAKE_COMMAND}" ${configure_args})
string(FIND "${configure_output}" "found in ${cmake_dir}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "install_consumer: the consumer did not find neolith in ${cmake_dir}:\n${configure_output}")
endif()

# 5. Build it; its compile command carries none of neolith's build-only flags.
run("build the consumer" ignored "${CMAKE_COMMAND}" --build "${consumer_build}")
file(READ "${consumer_build}/compile_commands.json" commands)
foreach(bad IN ITEMS "-Werror" "-Wpedantic" "cmake_pch" "-Winvalid-pch" "neolith_pch" "${source_real}/include")
  string(FIND "${commands}" "${bad}" at)
  if(NOT at EQUAL -1)
    message(FATAL_ERROR "install_consumer: the consumer's compile command contains '${bad}':\n${commands}")
  endif()
endforeach()
foreach(needed IN ITEMS "-DBOOST_ASIO_SEPARATE_COMPILATION" "-std=" "${prefix}/include")
  string(FIND "${commands}" "${needed}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "install_consumer: the consumer's compile command lacks '${needed}':\n${commands}")
  endif()
endforeach()

# 6. Run it, and the installed executable.
run("run the consumer" consumer_output "${consumer_build}/neolith_consumer")
message(STATUS "${consumer_output}")
string(FIND "${consumer_output}" "consumer: all checks passed" at)
if(at EQUAL -1)
  message(FATAL_ERROR "install_consumer: unexpected consumer output:\n${consumer_output}")
endif()
run("run the installed neolith --version" version_output "${prefix}/bin/neolith" --version)
string(FIND "${version_output}" "neolith ${EXPECTED_VERSION}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "install_consumer: installed neolith --version printed:\n${version_output}")
endif()

message(STATUS "install_consumer: passed")
