# Time engine (issue 3): sources, filter, selection, discipline, leap file.
target_sources(ntpnode_core PRIVATE
  md5.c
  refid.c
  leap.c
  leapsec.c
  filter.c
  select.c
  disc.c
  hosts.c
  source.c
  sync.c
  sync_names.c
  sync_poll.c
  sync_select.c
  sync_claim.c
  sync_leap.c
  sync_view.c
  conftime.c
  syncctl.c
)
