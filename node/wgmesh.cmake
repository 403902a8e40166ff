# WireGuard mesh from the membership (issue 5): node/wgmesh.h. Its own
# library: it reads the FSM (ntpmc_raft), which itself links ntpnode_core.
# wgjoin.c: the pure parts of the cluster's wiring (JoinReply mesh fields).
add_library(ntpmc_wgmesh STATIC wgmesh.c wgjoin.c)
target_link_libraries(ntpmc_wgmesh PUBLIC ntpmc_raft ntpmc_proto
  PkgConfig::SODIUM)

# Backup file format (issue 5): node/backup.h, pure.
add_library(ntpmc_backup STATIC backup.c)
target_link_libraries(ntpmc_backup PUBLIC PkgConfig::SODIUM)
