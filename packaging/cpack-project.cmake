# Read by cpack before it makes any package (CPACK_PROJECT_CONFIG_FILE). The paths compiled
# into porchd and written into the units are the build tree's install prefix: a package made
# from a tree configured for /usr/local would install programs and units that do not find
# each other, so cpack refuses.
if(NOT CPACK_PORCH_INSTALL_PREFIX STREQUAL "/usr")
  message(FATAL_ERROR "porch: packages are made from a build tree configured with "
                      "-DCMAKE_INSTALL_PREFIX=/usr (this one: ${CPACK_PORCH_INSTALL_PREFIX})")
endif()
