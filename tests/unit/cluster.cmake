# Unit tests of the cluster glue (node/c*.c), kept here so that the shared
# list in CMakeLists.txt changes in one line only.
ntpmc_unit_test(test_cpol SOURCES test_cpol.c LIBS ntpnode_core TIMEOUT 10)
ntpmc_unit_test(test_cstat SOURCES test_cstat.c LIBS ntpnode_core m TIMEOUT 10)
ntpmc_unit_test(test_ckey SOURCES test_ckey.c LIBS ntpnode_core TIMEOUT 10)
ntpmc_unit_test(test_cargs SOURCES test_cargs.c LIBS ntpnode_core TIMEOUT 10)
# The glue in one process over an in-memory transport (real driver, FSM,
# LMDB); the control socket and time state are stubbed in the test.
ntpmc_unit_test(test_cluster_mem SOURCES test_cluster_mem.c
  LIBS ntpmc_cluster TIMEOUT 90)
ntpmc_unit_test(test_conf_cluster SOURCES test_conf_cluster.c
  LIBS ntpnode_core TIMEOUT 10)
