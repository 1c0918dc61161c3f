# install() rules and the exported package: find_package(neolith CONFIG) then
# target_link_libraries(app PRIVATE neolith::neolith).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS neolith
  EXPORT neolith-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# (The include directory is already in neolith's INSTALL_INTERFACE, see src/CMakeLists.txt.)
install(TARGETS neolith_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(BUILD_SHARED_LIBS)
  # The installed executable finds the installed libneolith.so next to it, wherever the prefix.
  set_target_properties(neolith_cli PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
endif()
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/neolith" DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

set(NEOLITH_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/neolith")
install(EXPORT neolith-targets NAMESPACE neolith:: DESTINATION "${NEOLITH_CMAKE_DIR}")
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/neolithConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/neolithConfig.cmake"
  INSTALL_DESTINATION "${NEOLITH_CMAKE_DIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/neolithConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/neolithConfig.cmake"
  "${PROJECT_BINARY_DIR}/neolithConfigVersion.cmake"
  DESTINATION "${NEOLITH_CMAKE_DIR}")
