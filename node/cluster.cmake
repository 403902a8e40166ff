# The cluster glue (issue 4): its own library because it sits on top of
# raft/ (driver, FSM), the transport and storage, which use ntpnode_core.
# node/cluster_tr.c (the real transport, raft/tcp.h) is linked by the
# daemon only: the in-process test brings its own.
add_library(ntpmc_cluster STATIC
  cluster.c
  cluster_app.c
  cluster_ident.c
  cluster_cmd.c
  cluster_member.c
  cluster_drain.c
  cluster_backup.c
  offline.c
  restore.c
  recover.c
  cluster_wg.c
)
target_link_libraries(ntpmc_cluster PUBLIC ntpnode_core ntpmc_wgmesh ntpmc_raft
  ntpmc_wire ntpmc_storage ntpmc_backup ntpmc_proto PkgConfig::UV
  PkgConfig::SODIUM PkgConfig::RAFT)
