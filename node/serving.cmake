# NTP serving path (issue 2): clock reader, published time state, codec,
# access control, rate limiter, serving threads.
target_sources(ntpnode_core PRIVATE
  clk.c
  ntp.c
  tstate.c
  acl.c
  rl.c
  serve.c
)
