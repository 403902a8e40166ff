/*
 * ntpnode: the NTP-MC daemon. `run` serves NTP from a config file in the
 * foreground (systemd runs it as it is); `check` validates a config file.
 * Process shape: the main thread runs the libuv loop (control socket,
 * timers, signals); serve_start() runs the serving threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <unistd.h>
#include <uv.h>

#include "node/daemon/cargs.h"
#include "node/ntp/clk.h"
#include "node/cluster/cluster.h"
#include "node/crosscheck/crosscheck.h"
#include "node/cluster/cstore.h"
#include "node/daemon/conf.h"
#include "node/ctl/ctl.h"
#include "node/base/log.h"
#include "node/daemon/mviews.h"
#include "node/cost/cost.h"
#include "node/metrics/metrics.h"
#include "node/daemon/offline_cmd.h"
#include "node/rotation/rotation.h"
#include "node/serve/serve.h"
#include "node/daemon/srvstats.h"
#include "node/daemon/svc.h"
#include "node/time/sync.h"
#include "node/daemon/syncctl.h"
#include "node/ntp/tstate.h"
#include "node/base/version.h"
#include "storage/st.h"

struct node {
	struct conf conf;
	uv_loop_t loop;
	uv_signal_t sigint, sigterm, sighup;
	int stopping;             /* a SIGTERM/SIGINT was seen */
	int lock_fd;
	char lock_path[PATH_MAX];
	struct ctl *ctl;
	struct serve *serve;
	struct srvstats *stats;
	struct st *st;            /* node-local table (frequency estimate,
				     metrics history) */
	struct sync *sync;        /* time engine, with upstream/pool lines */
	int st_borrowed;          /* st belongs to the cluster */
	struct cluster *cl;
	struct rotation *rot;     /* with a cluster, once it is ready */
	struct svc *svc;          /* readiness, status, watchdog (svc.h) */
	struct metrics *metrics;  /* endpoint and pool-check history */
	struct mviews views;      /* what it reads of serve and sync */
	struct crosscheck *xc;    /* members measure each other: cluster only */
	struct cost *cost;        /* egress ledger (node/cost) */
	struct cost_hooks cost_hooks;
	enum cluster_mode mode;
	int no_run;               /* init/join --no-run: exit once a member */
	int exit_code;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ntpnode COMMAND -c FILE [OPTIONS]\n"
		"commands:\n"
		"  run -c FILE     serve NTP with this configuration (foreground)\n"
		"  init -c FILE [--overlay-subnet A.B.C.D/N] [--no-run]\n"
		"                  create a cluster with this node as its first "
		"voter, print\n"
		"                  a join token, then run (the subnet: WireGuard "
		"overlay,\n"
		"                  default 192.168.10.0/24)\n"
		"  join -c FILE (--token TOKEN | --token-file PATH | env "
		"NTPNODE_TOKEN) [--no-run]\n"
		"                  join the cluster the token names, then run\n"
		"                  (--no-run: exit 0 once a committed member, "
		"for a\n"
		"                  first-boot script that starts the service "
		"next)\n"
		"  restore -c FILE --from BACKUP\n"
		"                  seed a new one-member cluster in FILE's (empty) "
		"datadir\n"
		"                  from a backup (ntpctl backup)\n"
		"  recover -c FILE (--check | --voters ID|NAME[,...] "
		"[--at INDEX:TERM])\n"
		"                  offline, after quorum loss: --check prints "
		"this member's\n"
		"                  last log index and term; --voters appends a "
		"configuration\n"
		"                  with only those voters (with more than one, "
		"--at gives the\n"
		"                  index:term that --check printed on each of "
		"them)\n"
		"  check -c FILE   validate the configuration only: prints "
		"'FILE: ok', exit 0,\n"
		"                  or every error as FILE:LINE: problem, exit 1\n"
		"options (before or after the command, in any order; --opt=VALUE "
		"too;\n-- ends them):\n"
		"  -c, --config FILE   configuration file\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n"
		"see ntpnode.conf(5) or docs/configuration.md for the "
		"directives, ntpnode(8)\nor docs/operations.md for restore and "
		"recover\n");
}

/* CAP_SYS_TIME in the effective set: the kernel discipline needs it. */
static int have_cap_sys_time(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d) < 0)
		return 0;
	return (d[CAP_TO_INDEX(CAP_SYS_TIME)].effective &
		CAP_TO_MASK(CAP_SYS_TIME)) != 0;
}

/* mkdir -p; directories it creates get mode. */
static int mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	char *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

/*
 * One daemon per datadir: an exclusive flock on DATADIR/lock, held for the
 * life of the process (the kernel drops it if we crash). The file holds
 * the holder's PID, for the message a second daemon prints.
 */
static int lock_datadir(struct node *n)
{
	char pid[32] = "";
	ssize_t r;
	int fd;

	char msg[CSTORE_MSG_MAX];

	if (mkdirs(n->conf.datadir, 0750) < 0) {
		log_warn("cannot create datadir %s", n->conf.datadir);
		return -1;
	}
	/* Before the lock file: a datadir open to others is left as it is. */
	if (cstore_check_perms(n->conf.datadir, msg, sizeof(msg)) != 0) {
		log_err("%s", msg);
		return -1;
	}
	/* conf.c keeps datadir 64 bytes short of PATH_MAX for this. */
	if (snprintf(n->lock_path, sizeof(n->lock_path), "%.*s/lock",
		     PATH_MAX - 64, n->conf.datadir) >= (int)sizeof(n->lock_path))
		return -1;
	fd = open(n->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_warn("cannot open %s", n->lock_path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			r = pread(fd, pid, sizeof(pid) - 1, 0);
			pid[r > 0 ? r : 0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			log_err("another ntpnode (pid %s) holds %s: refusing to "
				"start on the same datadir",
				pid[0] ? pid : "unknown", n->lock_path);
		} else {
			log_warn("flock %s", n->lock_path);
		}
		close(fd);
		return -1;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 ||
	    pwrite(fd, pid, strlen(pid), 0) != (ssize_t)strlen(pid))
		log_warn("cannot record our pid in %s", n->lock_path);
	n->lock_fd = fd;
	return 0;
}

static void handoff_done(void *arg)
{
	struct node *n = arg;

	uv_stop(&n->loop);
}

/* SIGTERM/SIGINT: a leader first hands leadership over (at most
 * CLUSTER_HANDOFF_MS), so a planned restart costs no election; a follower,
 * or a second signal, exits at once. The serving threads answer NTP until
 * then. */
static void on_signal(uv_signal_t *s, int signum)
{
	struct node *n = s->data;

	if (signum == SIGHUP) {
		log_warnx("SIGHUP: configuration reload is not supported; "
			  "restart to apply changes");
		return;
	}
	if (!n->stopping++ && n->cl &&
	    cluster_handoff(n->cl, handoff_done, n) == 0) {
		svc_stopping(n->svc);
		log_info("%s: handing leadership over, then shutting down "
			 "(send it again to exit at once)", strsignal(signum));
		return;
	}
	log_info("%s: shutting down", strsignal(signum));
	svc_stopping(n->svc);
	uv_stop(&n->loop);
}

/* loglevel LEVEL: mutating, so only root or the daemon's user. */
static void on_loglevel(void *arg, struct ctl_call *call, int argc,
			char **argv)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	int i;

	if (argc == 1) {
		for (i = 0; i < 4; i++) {
			if (strcmp(argv[0], names[i]) == 0) {
				log_set_level((enum log_level)i);
				log_info("log level set to %s", names[i]);
				ctl_reply(call, CTL_OK, NULL, "ok", NULL);
				return;
			}
		}
	}
	ctl_reply(call, CTL_EUSAGE, "usage: loglevel debug|info|warn|error",
		  NULL, NULL);
}

/* The time engine keeps its frequency estimate in the node-local table. */
#define NODE_FREQ_KEY "time.freq"

static int freq_load(void *arg, double *f)
{
	struct node *n = arg;
	void *buf = NULL;
	size_t len = 0;
	int rc;

	rc = st_local_get(n->st, NODE_FREQ_KEY, &buf, &len);
	if (rc == 0 && len != sizeof(*f))
		rc = -EINVAL;
	if (rc == 0)
		memcpy(f, buf, sizeof(*f));
	free(buf);
	return rc;
}

static int freq_save(void *arg, double f)
{
	struct node *n = arg;

	return st_local_put(n->st, NODE_FREQ_KEY, &f, sizeof(f));
}

/* The real adjtimex, only ever reached with `discipline kernel` (which
 * needs CAP_SYS_TIME; tests never have it). */
static int real_adjtimex(struct timex *tx)
{
	return adjtimex(tx);
}

/* The node-local table: one LMDB environment per process, the
 * cluster's if there is one. Without it the node runs, keeping neither
 * its frequency estimate nor its metrics history; a damaged store or one
 * others can read is refused instead (the message names the fix). */
static int open_store(struct node *n)
{
	const struct conf *c = &n->conf;
	char msg[CSTORE_MSG_MAX];
	int rc;

	if (n->cl) {
		n->st = cluster_store(n->cl);
		n->st_borrowed = 1;
		return 0;
	}
	rc = cstore_open(&n->st, c->datadir, 0, msg, sizeof(msg));
	if (rc == -EUCLEAN || rc == -EACCES) {
		log_err("%s", msg);
		return -1;
	}
	if (rc < 0) {
		log_warnx("%s: the frequency estimate and the metrics history "
			  "will not be kept", msg);
		n->st = NULL;
	}
	return 0;
}

/* The time engine, when upstream/pool lines are configured. */
static int start_time(struct node *n)
{
	const struct conf *c = &n->conf;
	struct sync_persist persist = { freq_load, freq_save, n };

	if (!c->time.n_up)
		return 0;
	n->sync = sync_start(&n->loop, &c->time, n->st ? &persist : NULL,
			     real_adjtimex);
	return n->sync ? 0 : -1;
}

/* The control socket and what answers on it. With a cluster it opens
 * once the node is a committed member (init prints its token
 * first, join waits for its membership). */
/* What node/cost reads and sets of the serving threads (mviews.h). */
static void read_egress(void *arg, struct egress_counts *out)
{
	mviews_egress(arg, out);
}

static void set_limit(void *arg, uint64_t bytes_per_s)
{
	const struct mviews *mv = arg;

	if (mv->serve)
		serve_set_egress_limit(mv->serve, bytes_per_s);
}

static uint64_t governor_drops(void *arg)
{
	const struct mviews *mv = arg;
	struct serve_stats s;

	if (!mv->serve)
		return 0;
	serve_get_stats(mv->serve, &s);
	return s.drop_governor;
}

static int open_control(struct node *n)
{
	const struct conf *c = &n->conf;

	n->ctl = ctl_open(&n->loop, c->control);
	if (!n->ctl)
		return -1;
	if (ctl_register(n->ctl, "loglevel", on_loglevel, n) < 0)
		return -1;
	syncctl_set_cost(n->cl ? n->cost : NULL);
	if (syncctl_register(n->ctl, n->sync, n->xc) < 0)
		return -1;
	n->stats = srvstats_start(&n->loop, n->ctl, n->serve);
	if (!n->stats)
		return -1;
	if (metrics_register(n->metrics, n->ctl) < 0)
		return -1;
	if (n->cl && cluster_register(n->cl, n->ctl) < 0)
		return -1;
	if (cost_register(n->cost, n->ctl) < 0 ||
	    (n->rot && rotation_register(n->rot, n->ctl) < 0))
		return -1;
	log_info("control socket %s (ntpctl -s %s serverstats)", c->control,
		 c->control);
	/* The serving sockets are bound (start() did that first): ready. */
	svc_ready(n->svc, n->sync, n->cl);
	return 0;
}

/* The cross-check's verdict about us reaches the time engine: a suspect
 * claims no sync (and sets STA_UNSYNC with the kernel discipline). */
static void on_suspect(void *arg, int suspect)
{
	struct node *n = arg;

	if (n->sync)
		sync_set_suspect(n->sync, suspect);
}

/* A committed member cross-checks the others on its serving port. */
static int start_crosscheck(struct node *n)
{
	struct sockaddr_storage ss;
	uint16_t port = 0;

	if (serve_addr(n->serve, 0, &ss) == 0)
		port = ntohs(ss.ss_family == AF_INET6 ?
			     ((struct sockaddr_in6 *)&ss)->sin6_port :
			     ((struct sockaddr_in *)&ss)->sin_port);
	n->xc = crosscheck_start(&n->loop, n->cl, &n->conf.crosscheck, port,
				 on_suspect, n);
	n->views.xc = n->xc;
	return n->xc ? 0 : -1;
}

/* Leader placement asks the rotation which members it keeps on, and the
 * cost ledger what each provider's members sent this month. */
static int place_planned_on(void *arg, uint64_t id)
{
	struct node *n = arg;

	return n->rot ? rotation_planned_on(n->rot, id) : 1;
}

static uint64_t place_egress_used(void *arg, const char *provider)
{
	struct node *n = arg;

	return cost_provider_used(n->cost, provider);
}

static void on_cluster_ready(void *arg, struct cluster *cl, int ok)
{
	struct node *n = arg;

	n->cl = cl;
	if (ok && n->no_run) {
		log_info("a committed member of the cluster: exiting "
			 "(--no-run; `ntpnode run` or the service takes over)");
		uv_stop(&n->loop);
		return;
	}
	if (ok && rotation_start(&n->rot, &n->loop, cl,
				 &n->conf.rotation) < 0)
		ok = 0;
	n->views.rot = n->rot;
	if (ok) {
		struct cluster_placement place = { place_planned_on,
						    place_egress_used, n };

		cluster_set_placement(cl, &place);
	}
	if (!ok || start_crosscheck(n) < 0 || open_control(n) < 0) {
		n->exit_code = 1;
		uv_stop(&n->loop);
	}
}

/* raft stopped for good: acknowledge nothing more, exit non-zero. */
static void on_cluster_failed(void *arg, struct cluster *cl, int reason)
{
	struct node *n = arg;

	(void)cl;
	(void)reason;
	n->exit_code = 1;
	uv_stop(&n->loop);
}

static int start(struct node *n, const char *token)
{
	const struct conf *c = &n->conf;
	const struct cluster_hooks hooks = {
		.ready = on_cluster_ready,
		.failed = on_cluster_failed,
		.arg = n,
	};

	if (c->time.discipline == DISC_KERNEL && !n->no_run &&
	    !have_cap_sys_time()) {
		log_err("%s: 'discipline kernel' needs CAP_SYS_TIME, which "
			"this process does not have (use 'discipline virtual' "
			"or run with the capability)", c->path);
		return -1;
	}
	if (n->mode != CLUSTER_RUN && !c->cluster.listen_set) {
		log_err("%s: %s needs cluster-listen (and cluster-advertise) "
			"in the configuration", c->path,
			n->mode == CLUSTER_INIT ? "init" : "join");
		return -1;
	}
	if (lock_datadir(n) < 0)
		return -1;
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -1;
	/* First: the watchdog pings while a join is still under way. */
	n->svc = svc_start(&n->loop, c->test_hang_loop_s);
	if (!n->svc)
		return -1;
	/* Before anything reads the clock (the cluster stamps and judges
	 * with it from the start). */
	if (c->time.clock_error_set) {
		/* Test-only, and loud: every realtime reading (served
		 * timestamps, samples, kernel receive timestamps) is off. */
		log_warnx("TEST-ONLY clock-error: this node's realtime clock "
			  "reads %+.6f s off, drifting %+.3f ppm; never use "
			  "this outside tests", c->time.clock_error_offset,
			  c->time.clock_error_drift);
		clk_set_error(c->time.clock_error_offset,
			      c->time.clock_error_drift);
	}
	/* The cluster first: it owns the store the time engine shares. The
	 * control socket opens when it says the node is a member. */
	if (c->cluster.listen_set &&
	    cluster_start(&n->cl, &n->loop, &c->cluster, n->mode, token,
			  &hooks) < 0)
		return -1;
	/* --no-run: the membership only; no NTP, no time engine. */
	if (n->no_run)
		return 0;
	/* Without a time source replies say unsynchronized (LI 3, stratum 0). */
	if (c->time.local_stratum)
		tstate_set_local(c->time.local_stratum);
	if (open_store(n) < 0 || start_time(n) < 0)
		return -1;
	n->serve = serve_start(&c->serve);
	if (!n->serve)
		return -1;
	svc_watch(n->svc, n->serve);
	if (c->cost.test_limit && !n->cl) {
		log_warnx("TEST-ONLY test-egress-limit: public replies limited "
			  "to %llu B/s", (unsigned long long)c->cost.test_limit);
		serve_set_egress_limit(n->serve, c->cost.test_limit);
	}
	mviews_init(&n->views);
	n->views.serve = n->serve;
	n->views.sync = n->sync;
	n->views.cl = n->cl;
	n->cost_hooks.read = read_egress;
	n->cost_hooks.set_limit = set_limit;
	n->cost_hooks.governor_drops = governor_drops;
	n->cost_hooks.arg = &n->views;
	n->cost = cost_start(&n->loop, n->cl, &c->cost, &n->cost_hooks);
	if (!n->cost)
		return -1;
	n->views.cost = n->cost;
	n->metrics = metrics_start(&n->loop, &c->metrics, &n->views.v, n->cl,
				   n->st, NTPMC_VERSION);
	if (!n->metrics)
		return -1;
	uv_signal_init(&n->loop, &n->sigint);
	uv_signal_init(&n->loop, &n->sigterm);
	uv_signal_init(&n->loop, &n->sighup);
	n->sigint.data = n->sigterm.data = n->sighup.data = n;
	uv_signal_start(&n->sigint, on_signal, SIGINT);
	uv_signal_start(&n->sigterm, on_signal, SIGTERM);
	uv_signal_start(&n->sighup, on_signal, SIGHUP);
	if (c->time.local_stratum)
		log_info("time: local clock at stratum %d", c->time.local_stratum);
	else if (c->time.n_up)
		log_info("time: syncing from %d upstream/pool line%s "
			 "(ntpctl sources, ntpctl tracking)", c->time.n_up,
			 c->time.n_up == 1 ? "" : "s");
	else
		log_info("time: no source configured, replies say "
			 "unsynchronized");
	return c->cluster.listen_set ? 0 : open_control(n);
}

static void close_walk(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Undoes whatever start() got done, in reverse. */
static void stop(struct node *n)
{
	metrics_stop(n->metrics);
	srvstats_stop(n->stats);
	sync_stop(n->sync);
	ctl_close(n->ctl);
	n->views.xc = NULL;
	n->views.cl = NULL;
	n->views.cost = NULL;
	cost_stop(n->cost);
	crosscheck_stop(n->xc);
	n->views.rot = NULL;
	rotation_stop(n->rot);     /* before the cluster it stands on */
	n->rot = NULL;             /* freed once its handles close */
	cluster_stop(n->cl);
	if (n->st_borrowed)
		n->st = NULL;    /* closed with the cluster */
	svc_stop(n->svc);
	serve_stop(n->serve);
	/* Signal handles (and anything left) close; then the loop drains. */
	uv_walk(&n->loop, close_walk, NULL);
	uv_run(&n->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&n->loop) != 0)
		log_warnx("event loop still had handles at exit");
	if (n->st)
		st_close(n->st);
	if (n->lock_fd >= 0) {
		/* The file stays (unlinking would race a starting daemon);
		 * the lock goes with the descriptor. */
		close(n->lock_fd);
	}
}

/* token: join's token text (wiped here once the cluster holds it), or
 * init's overlay subnet. */
static int cmd_run(const char *path, enum cluster_mode mode, char *token,
		   int no_run)
{
	struct node *n;
	int rc = 1;

	n = calloc(1, sizeof(*n));
	if (!n) {
		log_err("out of memory");
		return 1;
	}
	n->lock_fd = -1;
	n->mode = mode;
	n->no_run = no_run;
	if (conf_load(&n->conf, path) < 0) {
		log_err("%s: not starting: the configuration has errors", path);
		free(n);
		return 1;
	}
	uv_loop_init(&n->loop);
	rc = start(n, token);
	/* The cluster parsed the token into sodium memory (and frees that
	 * once the join commits): the text goes now, not at exit. */
	if (mode == CLUSTER_JOIN && token)
		explicit_bzero(token, strlen(token));
	if (rc == 0) {
		uv_run(&n->loop, UV_RUN_DEFAULT);
		rc = n->exit_code;
		if (n->cl && cluster_failed(n->cl))
			rc = 1;
	} else {
		log_err("not started");
		rc = 1;
	}
	stop(n);
	free(n);
	return rc;
}

static int cmd_check(const char *path)
{
	struct conf *c = malloc(sizeof(*c));
	int rc;

	if (!c)
		return 1;
	rc = conf_load(c, path) == 0 ? 0 : 1;
	if (rc == 0)
		printf("%s: ok\n", path);
	free(c);
	return rc;
}

int main(int argc, char **argv)
{
	struct cargs *a;
	char err[256];
	int rc = 1;

	log_init("ntpnode", LOG_LVL_INFO);
	a = calloc(1, sizeof(*a));
	if (!a)
		return 1;
	if (cargs_parse(a, argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "ntpnode: %s\n", err);
		usage(stderr);
		rc = 2;
	} else if (a->version) {
		printf("ntpnode %s\n", NTPMC_VERSION);
		rc = 0;
	} else if (a->help) {
		usage(stdout);
		rc = 0;
	} else if (a->cmd == CARGS_RUN) {
		rc = cmd_run(a->conf, CLUSTER_RUN, NULL, 0);
	} else if (a->cmd == CARGS_CHECK) {
		rc = cmd_check(a->conf);
	} else if (a->cmd == CARGS_INIT) {
		/* init passes its overlay subnet where join passes its token */
		rc = cmd_run(a->conf, CLUSTER_INIT, a->overlay_subnet,
			     a->no_run);
	} else if (a->cmd == CARGS_JOIN) {
		rc = cmd_run(a->conf, CLUSTER_JOIN, a->token, a->no_run);
	} else if (a->cmd == CARGS_RESTORE) {
		rc = offline_restore(a->conf, a->from);
	} else if (a->cmd == CARGS_RECOVER) {
		rc = offline_recover(a->conf, a->check, a->voters, a->at);
	}
	cargs_wipe(a);
	free(a);
	return rc;
}
