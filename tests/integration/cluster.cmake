# Multi-process cluster tests on loopback (issue 4 item 6): lib-cluster.sh
# starts members with random ports in a temp dir and stops them by PID.
foreach(t cluster-3 cluster-5 cluster-disk cluster-backup cluster-recover2
    cluster-drain cluster-recover-drained)
  add_test(NAME ${t} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/${t}.sh)
  set_tests_properties(${t} PROPERTIES TIMEOUT 180 SKIP_RETURN_CODE 77
    LABELS integration
    ENVIRONMENT "NTPNODE=$<TARGET_FILE:ntpnode>;NTPCTL=$<TARGET_FILE:ntpctl>")
endforeach()
