# Cluster operations (issue 5).
ntpmc_unit_test(test_wgmesh SOURCES test_wgmesh.c LIBS ntpmc_wgmesh
  ntpmc_wire TIMEOUT 30)
ntpmc_unit_test(test_conf_wg SOURCES test_conf_wg.c LIBS ntpnode_core
  TIMEOUT 30)
ntpmc_unit_test(test_backup SOURCES test_backup.c LIBS ntpmc_backup
  ntpmc_raft TIMEOUT 30)
# Backup/restore/recover (issue 5 item 4): the offline commands' logic on a
# store in a temp dir, and ntpctl backup's file writing.
ntpmc_unit_test(test_recover SOURCES test_recover.c
  ${CMAKE_SOURCE_DIR}/tools/bkfile.c LIBS ntpmc_cluster TIMEOUT 30)
ntpmc_unit_test(test_drv_apply SOURCES test_drv_apply.c LIBS ntpmc_raft
  ntpmc_storage TIMEOUT 30)
ntpmc_unit_test(test_wgjoin SOURCES test_wgjoin.c LIBS ntpmc_wgmesh
  ntpmc_wire TIMEOUT 30)
