# NTP serving path: codec, time state, rate limiter, acl, serving threads.
ntpmc_unit_test(test_ntp SOURCES test_ntp.c LIBS ntpnode_core TIMEOUT 60)
ntpmc_unit_test(test_tstate SOURCES test_tstate.c LIBS ntpnode_core TIMEOUT 60)
ntpmc_unit_test(test_rl SOURCES test_rl.c LIBS ntpnode_core TIMEOUT 60)
ntpmc_unit_test(test_acl SOURCES test_acl.c LIBS ntpnode_core TIMEOUT 30)
ntpmc_unit_test(test_serve SOURCES test_serve.c LIBS ntpnode_core TIMEOUT 60)
