# Time engine unit tests (issue 3).
ntpmc_unit_test(test_md5 SOURCES test_md5.c LIBS ntpnode_core TIMEOUT 30)
ntpmc_unit_test(test_leap SOURCES test_leap.c LIBS ntpnode_core TIMEOUT 30)
ntpmc_unit_test(test_filter SOURCES test_filter.c LIBS ntpnode_core m TIMEOUT 30)
ntpmc_unit_test(test_select SOURCES test_select.c LIBS ntpnode_core TIMEOUT 30)
ntpmc_unit_test(test_disc SOURCES test_disc.c LIBS ntpnode_core m TIMEOUT 30)
ntpmc_unit_test(test_hosts SOURCES test_hosts.c LIBS ntpnode_core TIMEOUT 30)
ntpmc_unit_test(test_source SOURCES test_source.c LIBS ntpnode_core TIMEOUT 30)
ntpmc_unit_test(test_sync SOURCES test_sync.c LIBS ntpnode_core m TIMEOUT 30)
