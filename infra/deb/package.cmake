# The Debian package ntpmc, made by CPack's DEB generator from the same
# install() rules as `cmake --install` (tools/build-deb.sh drives it, with
# Debian's build flags). CPack rather than a debian/ directory: the top of
# the tree is fixed (no debian/ there), the file list is the install rules
# we keep anyway, and no debhelper is needed; the maintainer scripts are
# ours (infra/deb/postinst: user, upgrade check) and so is the little
# debhelper would add (changelog, copyright, gzip'd man pages).
#
# Version: the project's, as a native Debian version, so the package's
# upstream version is `ntpnode --version`'s. The changelog must agree.
file(STRINGS ${CMAKE_CURRENT_LIST_DIR}/changelog ntpmc_cl LIMIT_COUNT 1)
if(NOT ntpmc_cl MATCHES "^ntpmc \\(${PROJECT_VERSION}\\) ")
  message(FATAL_ERROR "infra/deb/changelog starts with '${ntpmc_cl}': its "
    "first entry must be ntpmc (${PROJECT_VERSION}), the project version")
endif()

# Debian's changelog and copyright files, in the package's doc directory.
set(ntpmc_cl_gz ${CMAKE_CURRENT_BINARY_DIR}/changelog.gz)
add_custom_command(OUTPUT ${ntpmc_cl_gz}
  COMMAND gzip -9n -c ${CMAKE_CURRENT_LIST_DIR}/changelog > ${ntpmc_cl_gz}
  DEPENDS ${CMAKE_CURRENT_LIST_DIR}/changelog)
add_custom_target(deb_changelog ALL DEPENDS ${ntpmc_cl_gz})
install(FILES ${ntpmc_cl_gz} ${CMAKE_CURRENT_LIST_DIR}/copyright
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ntpmc)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT
  "NTP-MC maintainers <maintainers@users.noreply.r-seed-75a691da.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "self-managing fleet of public NTP servers (node daemon)")
# The synopsis is the summary; CPack indents each line of the rest and
# turns an empty line into " .".
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "ntpnode serves NTP on every VM of a small fleet (stratum 2, fit for
pool.ntp.org) and makes the VMs one Raft cluster over a WireGuard mesh
that it builds itself; ntpctl is the operator's client.

The package installs ntpnode.service (Type=notify, watchdog, hardened)
without enabling it: a node is given a configuration and made a cluster
member (ntpnode init or join) first.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Another NTP daemon would fight ours over the clock and port 123, as
# chrony's, ntpsec's and systemd-timesyncd's packages say of each other.
set(CPACK_DEBIAN_PACKAGE_PROVIDES time-daemon)
set(CPACK_DEBIAN_PACKAGE_CONFLICTS time-daemon)
set(CPACK_DEBIAN_PACKAGE_REPLACES time-daemon)
# The WireGuard mesh (`wireguard-interface`) runs wg and ip, the public-IP
# helper curl: a standalone server needs none of them.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "wireguard-tools, iproute2, curl")
# Depends: dpkg-shlibdeps on the binaries at cpack time (deps.cmake),
# with libraft0 raised to 0.22.1: its symbols file allows 0.22.0, and the
# releases before 0.22.1 are not the maintained line we build against.
set(CPACK_NTPMC_BINARIES
  "${CMAKE_BINARY_DIR}/node/ntpnode;${CMAKE_BINARY_DIR}/tools/ntpctl")
set(CPACK_NTPMC_EXTRA_DEPENDS "adduser, libraft0 (>= 0.22.1)")
set(CPACK_PROJECT_CONFIG_FILE ${CMAKE_CURRENT_LIST_DIR}/deps.cmake)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  "${CMAKE_CURRENT_LIST_DIR}/postinst;${CMAKE_CURRENT_LIST_DIR}/prerm;${CMAKE_CURRENT_LIST_DIR}/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
  OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
  WORLD_READ WORLD_EXECUTE)
include(CPack)
