# The Debian package (`cpack -G DEB` in a build tree, e.g. build/release): the executable, the
# library, the headers, the CMake package and the systemd unit (not enabled: no maintainer
# script enables or starts it). The shared-library dependencies of the executable are found by
# dpkg-shlibdeps; the development packages a consumer of the headers and the CMake package
# needs are declared by name.
set(NEOLITH_PACKAGE_PREFIX "/usr")
set(NEOLITH_UNIT_BINDIR "${NEOLITH_PACKAGE_PREFIX}/${CMAKE_INSTALL_BINDIR}")
configure_file("${PROJECT_SOURCE_DIR}/cmake/neolith.service.in" "${PROJECT_BINARY_DIR}/neolith.service" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/neolith.service" DESTINATION lib/systemd/system)

set(CPACK_PACKAGE_NAME "neolith")
set(CPACK_PACKAGE_VENDOR "neolith")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "neolith maintainers <neolith@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX "${NEOLITH_PACKAGE_PREFIX}")
set(CPACK_GENERATOR "DEB")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libboost1.81-dev, libboost-json1.81-dev, libboost-url1.81-dev, libboost-system1.81-dev, libssl-dev, libhiredis-dev, pkg-config")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "systemd")
include(CPack)
