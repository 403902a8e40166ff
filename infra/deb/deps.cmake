# Read by cpack (CPACK_PROJECT_CONFIG_FILE): the package's Depends, from
# dpkg-shlibdeps on the binaries (which it wants a debian/control beside),
# libraft0 excluded there and given with its minimum by package.cmake.
if(NOT CPACK_GENERATOR STREQUAL "DEB")
  return()
endif()
set(dir ${CPACK_PACKAGE_DIRECTORY}/_CPack_Packages/shlibdeps)
file(MAKE_DIRECTORY ${dir}/debian)
file(WRITE ${dir}/debian/control
  "Source: ntpmc\n\nPackage: ntpmc\nArchitecture: any\n")
set(args)
foreach(b ${CPACK_NTPMC_BINARIES})
  list(APPEND args -e ${b})
endforeach()
execute_process(COMMAND dpkg-shlibdeps -O -xlibraft0 ${args}
  WORKING_DIRECTORY ${dir}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^shlibs:Depends=")
  message(FATAL_ERROR "dpkg-shlibdeps failed (${rc}): ${err}")
endif()
string(REGEX REPLACE "^shlibs:Depends=" "" shlibs "${out}")
string(REPLACE ", " ";" deps "${shlibs}, ${CPACK_NTPMC_EXTRA_DEPENDS}")
list(SORT deps)
list(JOIN deps ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
message(STATUS "ntpmc Depends: ${CPACK_DEBIAN_PACKAGE_DEPENDS}")
