# Storage and the raft core (issue 4): LMDB store, driver, FSM, simulation.
ntpmc_unit_test(test_st SOURCES test_st.c LIBS ntpmc_storage TIMEOUT 30)
ntpmc_unit_test(test_st_raft SOURCES test_st_raft.c LIBS ntpmc_storage
  TIMEOUT 30)
ntpmc_unit_test(test_raft_sim SOURCES test_raft_sim.c raftsim.c LIBS ntpmc_raft
  TIMEOUT 120)
ntpmc_unit_test(test_raft_ops SOURCES test_raft_ops.c raftsim.c LIBS ntpmc_raft
  TIMEOUT 120)
ntpmc_unit_test(test_fsm SOURCES test_fsm.c LIBS ntpmc_raft TIMEOUT 30)
ntpmc_unit_test(test_drvloop SOURCES test_drvloop.c LIBS ntpmc_raft TIMEOUT 30)
