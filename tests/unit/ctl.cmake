# Control plane (issue 2): config, JSON, control socket and its framing.
ntpmc_unit_test(test_conf SOURCES test_conf.c LIBS ntpnode_core TIMEOUT 60)
ntpmc_unit_test(test_json SOURCES test_json.c LIBS ntpnode_core TIMEOUT 30)
ntpmc_unit_test(test_ctlframe SOURCES test_ctlframe.c LIBS ntpmc_ctlframe
  TIMEOUT 30)
ntpmc_unit_test(test_ctl SOURCES test_ctl.c LIBS ntpnode_core TIMEOUT 60)
ntpmc_unit_test(test_srvstats SOURCES test_srvstats.c LIBS ntpnode_core
  TIMEOUT 30)
ntpmc_unit_test(test_ctl_limits SOURCES test_ctl_limits.c LIBS ntpnode_core
  TIMEOUT 30)
