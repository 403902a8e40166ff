# Cluster transport (raft/ident, token, hs, chan, frame, msgcodec, tcp).
ntpmc_unit_test(test_ident_token SOURCES test_ident_token.c
  LIBS ntpmc_wire TIMEOUT 30)
ntpmc_unit_test(test_wire_hs SOURCES test_wire_hs.c
  LIBS ntpmc_wire TIMEOUT 60)
ntpmc_unit_test(test_msgcodec SOURCES test_msgcodec.c
  LIBS ntpmc_wire TIMEOUT 30)
ntpmc_unit_test(test_wire SOURCES test_wire.c LIBS ntpmc_wire TIMEOUT 30)
ntpmc_unit_test(test_tcp SOURCES test_tcp.c LIBS ntpmc_wire TIMEOUT 60)
