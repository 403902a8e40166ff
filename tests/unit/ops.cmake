# Cluster operations (issue 5).
ntpmc_unit_test(test_wgmesh SOURCES test_wgmesh.c LIBS ntpmc_wgmesh
  ntpmc_wire TIMEOUT 30)
ntpmc_unit_test(test_conf_wg SOURCES test_conf_wg.c LIBS ntpnode_core
  TIMEOUT 30)
ntpmc_unit_test(test_backup SOURCES test_backup.c LIBS ntpmc_backup
  ntpmc_raft TIMEOUT 30)
