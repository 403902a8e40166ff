# Cluster transport decoders (issue 4). The sources are compiled into each
# target so that libFuzzer's coverage instrumentation sees them.
set(R ${PROJECT_SOURCE_DIR}/raft)
set(NTPMC_WIRE_FUZZ_LIBS ntpmc_proto PkgConfig::SODIUM PkgConfig::RAFT)
ntpmc_fuzz_test(fuzz_wire_frame SOURCES fuzz_wire_frame.c ${R}/wire.c
  ${R}/frame.c ${R}/chan.c ${R}/msgcodec.c LIBS ${NTPMC_WIRE_FUZZ_LIBS})
ntpmc_fuzz_test(fuzz_msgcodec SOURCES fuzz_msgcodec.c ${R}/msgcodec.c
  LIBS ${NTPMC_WIRE_FUZZ_LIBS})
ntpmc_fuzz_test(fuzz_token SOURCES fuzz_token.c ${R}/token.c
  LIBS ${NTPMC_WIRE_FUZZ_LIBS})
ntpmc_fuzz_test(fuzz_hs SOURCES fuzz_hs.c ${R}/hs.c ${R}/ident.c
  ${R}/token.c ${R}/chan.c ${R}/frame.c LIBS ${NTPMC_WIRE_FUZZ_LIBS})
