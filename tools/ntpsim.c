/*
 * ntpsim: simulated upstream NTP servers on loopback, one process, one UDP
 * socket per server. A request is held for its drawn forward delay (it
 * "arrives" then, which is what the receive timestamp says) and the reply
 * for its return delay; the transmit timestamp is taken from the send
 * instant minus the return delay, so scheduling lateness shows up as server
 * processing time, never as path error. See docs/ntpsim.md.
 */
#include "tools/sim.h"
#include "tools/simrelay.h"
#include "node/ntp/ntp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#define MAX_PENDING 65536

struct pending {
	int64_t due_ns;     /* system clock: when the reply leaves */
	int64_t t2_ns;      /* server clock when the request arrived */
	double ret;         /* drawn return delay, seconds */
	int srv;
	uint8_t vn;
	int8_t poll;
	uint64_t xmt;       /* client's transmit timestamp, echoed as origin */
	struct sockaddr_storage peer;
	socklen_t peer_len;
};

struct counters {
	uint64_t requests, bad, down, req_lost, reply_lost, answered, overflow;
};

#define MAX_POLL (SIM_MAX_SERVERS + SIM_MAX_RELAYS * 33)

struct sim {
	struct sim_scenario sc;
	struct sim_slots slots[SIM_MAX_SERVERS];
	struct counters cnt[SIM_MAX_SERVERS];
	struct pollfd pfd[MAX_POLL];
	struct sim_relay_spec relay[SIM_MAX_RELAYS];
	int n_relays;
	struct relays *relays;
	struct pending *heap;
	int n_heap;
	int verbose;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ntpsim [-f SCENARIO] [-s SERVER]... [-r RELAY]... "
		"[--seed N] [--slot D]\n"
		"              [--truth-offset D] [--truth-drift PPM] "
		"[--status FILE] [-v]\n"
		"       ntpsim truth STATUSFILE\n"
		"SERVER is ADDR[,key=value]...; keys: port offset drift step=T:S\n"
		"  down=T1:T2 stratum li precision refid rootdelay rootdisp kod\n"
		"  delay fwd ret jitter fwdjitter retjitter loss fwdloss retloss\n"
		"RELAY is ADDR,port=P,to=IP:PORT[,path keys]: a UDP delay relay\n"
		"  (delay fwd ret jitter fwdjitter retjitter loss fwdloss retloss)\n"
		"Durations take s, ms, us or ns (default s). See docs/ntpsim.md.\n");
}

/* ---- timer queue: a binary min-heap on due_ns ---- */

static void heap_swap(struct pending *a, struct pending *b)
{
	struct pending t = *a;

	*a = *b;
	*b = t;
}

static int heap_push(struct sim *s, const struct pending *p)
{
	int i;

	if (s->n_heap >= MAX_PENDING)
		return -1;
	i = s->n_heap++;
	s->heap[i] = *p;
	while (i > 0 && s->heap[(i - 1) / 2].due_ns > s->heap[i].due_ns) {
		heap_swap(&s->heap[(i - 1) / 2], &s->heap[i]);
		i = (i - 1) / 2;
	}
	return 0;
}

static void heap_pop(struct sim *s, struct pending *out)
{
	int i = 0;

	*out = s->heap[0];
	s->heap[0] = s->heap[--s->n_heap];
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;

		if (l < s->n_heap && s->heap[l].due_ns < s->heap[m].due_ns)
			m = l;
		if (r < s->n_heap && s->heap[r].due_ns < s->heap[m].due_ns)
			m = r;
		if (m == i)
			break;
		heap_swap(&s->heap[i], &s->heap[m]);
		i = m;
	}
}

/* ---- replies (RFC 5905 7.3), encoded by the node's codec ---- */

static void build_reply(const struct sim_server *sv, const struct pending *p,
			int64_t t3_ns, uint8_t *b)
{
	struct ntp_hdr h;
	int kod = sv->kod[0] != '\0';

	memset(&h, 0, sizeof(h));
	h.leap = (uint8_t)(kod ? NTP_LEAP_UNSYNC : sv->li);
	h.version = p->vn;
	h.mode = NTP_MODE_SERVER;
	h.stratum = (uint8_t)(kod ? 0 : sv->stratum);
	h.poll = p->poll;
	h.precision = (int8_t)sv->precision;
	h.root_delay = ntp_short_from_s(sv->root_delay);
	h.root_disp = ntp_short_from_s(sv->root_disp);
	h.refid = sv->refid;
	if (kod) {
		h.refid = 0;
		for (size_t i = 0; i < strlen(sv->kod); i++)
			h.refid |= (uint32_t)(unsigned char)sv->kod[i]
				   << (24 - 8 * i);
	}
	/* Reference time: the last 16 s boundary of the server's clock. */
	h.ref = ntp_ts_from_ns(t3_ns - (t3_ns % (16 * (int64_t)1000000000)));
	h.org = p->xmt;
	h.rec = ntp_ts_from_ns(p->t2_ns);
	h.xmt = ntp_ts_from_ns(t3_ns);
	ntp_encode(&h, b);
}

/* ---- serving ---- */

static int64_t rx_time(struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		}
	}
	return sim_now_ns();
}

static void on_request(struct sim *s, int i, const uint8_t *b, ssize_t n,
		       int64_t rx_ns, const struct sockaddr_storage *peer,
		       socklen_t peer_len)
{
	const struct sim_server *sv = &s->sc.servers[i];
	struct counters *c = &s->cnt[i];
	struct sim_draw d;
	struct sim_key key;
	struct pending p;
	struct ntp_hdr req;

	c->requests++;
	if (n < 0 || ntp_classify(b, (size_t)n) != NTP_CLIENT) {
		c->bad++;
		return;
	}
	ntp_decode(b, &req);
	if (sim_server_down(&s->sc.truth, sv, rx_ns)) {
		c->down++;
		return;
	}
	/* Keyed by when the client sent, not by arrival order: clients
	 * polling at the same rate see the same delays and losses. */
	key.seed = s->sc.seed;
	key.stream = (uint64_t)i;
	key.slot = sim_slot_of((double)(rx_ns - s->sc.truth.t0_ns) * 1e-9,
			       s->sc.slot);
	key.sub = sim_slots_next(&s->slots[i], peer, peer_len, key.slot);
	sim_path_draw(sv, &key, &d);
	if (s->verbose)
		fprintf(stderr, "ntpsim: %s request port %u slot %" PRIu64
			" sub %" PRIu64 " fwd %.6f ret %.6f%s\n", sv->addr,
			ntohs(((const struct sockaddr_in *)peer)->sin_port),
			key.slot, key.sub, d.fwd, d.ret,
			d.req_lost ? " req_lost" :
			d.reply_lost ? " reply_lost" : "");
	if (d.req_lost) {
		c->req_lost++;
		return;
	}
	if (d.reply_lost) {
		c->reply_lost++;
		return;
	}
	memset(&p, 0, sizeof(p));
	p.srv = i;
	p.vn = req.version;
	p.poll = req.poll;
	p.xmt = req.xmt;
	memcpy(&p.peer, peer, peer_len);
	p.peer_len = peer_len;
	/* The kernel receive time is when the client sent (loopback takes
	 * microseconds); the request reaches the server fwd later. */
	p.t2_ns = sim_server_ns(&s->sc.truth, sv,
				rx_ns + (int64_t)(d.fwd * 1e9));
	p.ret = d.ret;
	p.due_ns = rx_ns + (int64_t)((d.fwd + d.ret) * 1e9);
	if (heap_push(s, &p) != 0)
		c->overflow++;
}

static void drain_socket(struct sim *s, int i)
{
	/* Bounded so one busy server cannot starve the timer queue. */
	for (int k = 0; k < 256; k++) {
		uint8_t buf[1024];
		union {
			char b[CMSG_SPACE(sizeof(struct timespec))];
			struct cmsghdr align;
		} ctl;
		struct sockaddr_storage peer;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_name = &peer,
				    .msg_namelen = sizeof(peer),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.b,
				    .msg_controllen = sizeof(ctl.b) };
		ssize_t n = recvmsg(s->pfd[i].fd, &m, MSG_DONTWAIT);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				fprintf(stderr, "ntpsim: recvmsg: %s\n",
					strerror(errno));
			return;
		}
		on_request(s, i, buf, n, rx_time(&m), &peer, m.msg_namelen);
	}
}

static void send_due(struct sim *s)
{
	while (s->n_heap > 0 && s->heap[0].due_ns <= sim_now_ns()) {
		struct pending p;
		const struct sim_server *sv;
		uint8_t out[NTP_HDR_LEN];
		int64_t now, t3;

		heap_pop(s, &p);
		sv = &s->sc.servers[p.srv];
		now = sim_now_ns();
		/* The reply reaches the client about now: it left ret ago. */
		t3 = sim_server_ns(&s->sc.truth, sv, now - (int64_t)(p.ret * 1e9));
		build_reply(sv, &p, t3, out);
		if (sendto(s->pfd[p.srv].fd, out, sizeof(out), 0,
			   (struct sockaddr *)&p.peer, p.peer_len) < 0) {
			fprintf(stderr, "ntpsim: sendto: %s\n", strerror(errno));
			continue;
		}
		s->cnt[p.srv].answered++;
		if (s->verbose)
			fprintf(stderr,
				"ntpsim: %s answered ret %.6f late %.6f\n",
				sv->addr, p.ret,
				(double)(now - p.due_ns) * 1e-9);
	}
}

static int open_server(struct sim_server *sv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (strchr(sv->addr, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(sv->port);
		inet_pton(AF_INET6, sv->addr, &a->sin6_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(sv->port);
		inet_pton(AF_INET, sv->addr, &a->sin_addr);
		len = sizeof(*a);
	}
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	sv->port = ntohs(ss.ss_family == AF_INET6 ?
				 ((struct sockaddr_in6 *)&ss)->sin6_port :
				 ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

static void run(struct sim *s)
{
	int ns = s->sc.n_servers, nr;
	sigset_t empty;

	sigemptyset(&empty);
	while (!stop_flag) {
		struct timespec to, *top = NULL;
		int64_t due = s->n_heap > 0 ? s->heap[0].due_ns : 0;
		int64_t rdue = s->relays ? relays_next_due(s->relays) : 0;

		if (rdue && (!due || rdue < due))
			due = rdue;
		if (due) {
			int64_t wait = due - sim_now_ns();

			if (wait < 0)
				wait = 0;
			to.tv_sec = wait / 1000000000;
			to.tv_nsec = wait % 1000000000;
			top = &to;
		}
		/* relays open a socket per client as clients come */
		nr = s->relays ? relays_pollfds(s->relays, s->pfd + ns,
						MAX_POLL - ns) : 0;
		/* Signals are blocked except inside ppoll: no lost wakeup. */
		if (ppoll(s->pfd, (nfds_t)(ns + nr), top, &empty) < 0 &&
		    errno != EINTR) {
			fprintf(stderr, "ntpsim: ppoll: %s\n", strerror(errno));
			return;
		}
		for (int i = 0; i < ns; i++)
			if (s->pfd[i].revents & POLLIN)
				drain_socket(s, i);
		if (s->relays) {
			relays_readable(s->relays, s->pfd + ns, nr);
			relays_send_due(s->relays);
		}
		send_due(s);
	}
}

static void print_counters(const struct sim *s)
{
	for (int i = 0; i < s->sc.n_servers; i++) {
		const struct counters *c = &s->cnt[i];

		fprintf(stderr,
			"ntpsim: %s:%u requests %" PRIu64 " answered %" PRIu64
			" req_lost %" PRIu64 " reply_lost %" PRIu64
			" bad %" PRIu64 " down %" PRIu64 " overflow %" PRIu64
			"\n",
			s->sc.servers[i].addr, s->sc.servers[i].port,
			c->requests, c->answered, c->req_lost, c->reply_lost,
			c->bad, c->down, c->overflow);
	}
}

static int truth_cmd(const char *status)
{
	struct sim_truth t;
	int64_t now;

	if (sim_read_truth(status, &t) != 0) {
		fprintf(stderr, "ntpsim: %s: not an ntpsim status file\n",
			status);
		return 1;
	}
	now = sim_now_ns();
	printf("%.9f\n", (double)(sim_truth_ns(&t, now) - now) * 1e-9);
	return 0;
}

static int parse_args(struct sim *s, int argc, char **argv,
		      const char **status)
{
	static const struct option opts[] = {
		{ "scenario", required_argument, NULL, 'f' },
		{ "server", required_argument, NULL, 's' },
		{ "relay", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 'S' },
		{ "slot", required_argument, NULL, 'L' },
		{ "truth-offset", required_argument, NULL, 'O' },
		{ "truth-drift", required_argument, NULL, 'D' },
		{ "status", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sim_scenario *sc = &s->sc;
	int c;

	while ((c = getopt_long(argc, argv, "f:s:r:vh", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 'f':
			if (sim_load_scenario(sc, optarg) != 0)
				return -1;
			break;
		case 's':
			if (sc->n_servers >= SIM_MAX_SERVERS) {
				fprintf(stderr, "ntpsim: too many servers\n");
				return -1;
			}
			if (sim_parse_server(&sc->servers[sc->n_servers++],
					     optarg, "--server") != 0)
				return -1;
			break;
		case 'r':
			if (s->n_relays >= SIM_MAX_RELAYS) {
				fprintf(stderr, "ntpsim: too many relays\n");
				return -1;
			}
			if (sim_parse_relay(&s->relay[s->n_relays++], optarg,
					    "--relay") != 0)
				return -1;
			break;
		case 'S':
			errno = 0;
			sc->seed = strtoull(optarg, &end, 0);
			if (end == optarg || *end || errno) {
				fprintf(stderr, "ntpsim: bad --seed\n");
				return -1;
			}
			break;
		case 'L':
			if (sim_parse_duration(optarg, &sc->slot) != 0 ||
			    sc->slot < 1e-6) {
				fprintf(stderr, "ntpsim: bad --slot\n");
				return -1;
			}
			break;
		case 'O':
			if (sim_parse_duration(optarg, &sc->truth.offset) != 0) {
				fprintf(stderr, "ntpsim: bad --truth-offset\n");
				return -1;
			}
			break;
		case 'D':
			if (sim_parse_double(optarg, &sc->truth.drift_ppm) != 0) {
				fprintf(stderr, "ntpsim: bad --truth-drift\n");
				return -1;
			}
			break;
		case 't':
			*status = optarg;
			break;
		case 'v':
			s->verbose = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || (sc->n_servers == 0 && s->n_relays == 0)) {
		usage(stderr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct sim s;
	const char *status = NULL;
	struct sigaction sa;
	sigset_t block;
	int rc = 1, opened = 0;

	if (argc == 3 && strcmp(argv[1], "truth") == 0)
		return truth_cmd(argv[2]);
	sim_scenario_init(&s.sc);
	if (parse_args(&s, argc, argv, &status) != 0)
		return 2;
	s.heap = calloc(MAX_PENDING, sizeof(*s.heap));
	if (s.heap == NULL) {
		fprintf(stderr, "ntpsim: out of memory\n");
		return 1;
	}
	/* Wake up close to each reply's due time (default slack 50 us). */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	s.sc.truth.t0_ns = sim_now_ns();
	for (; opened < s.sc.n_servers; opened++) {
		struct sim_server *sv = &s.sc.servers[opened];

		s.pfd[opened].fd = open_server(sv);
		s.pfd[opened].events = POLLIN;
		if (s.pfd[opened].fd < 0) {
			fprintf(stderr, "ntpsim: bind %s port %u: %s\n",
				sv->addr, sv->port, strerror(errno));
			goto out;
		}
	}
	if (s.n_relays) {
		s.relays = relays_open(s.relay, s.n_relays, s.sc.seed);
		if (!s.relays)
			goto out;
	}
	if (status && sim_write_status(&s.sc, status) != 0) {
		fprintf(stderr, "ntpsim: cannot write %s: %s\n", status,
			strerror(errno));
		goto out;
	}
	for (int i = 0; i < s.sc.n_servers; i++)
		printf("server %s %u\n", s.sc.servers[i].addr,
		       s.sc.servers[i].port);
	for (int i = 0; i < s.n_relays; i++)
		printf("relay %s %u %s\n", s.relay[i].path.addr,
		       s.relay[i].path.port, s.relay[i].to);
	printf("ready\n");
	fflush(stdout);
	run(&s);
	print_counters(&s);
	if (s.relays)
		relays_print(s.relays, stderr);
	rc = 0;
out:
	relays_close(s.relays);
	for (int i = 0; i < opened; i++)
		close(s.pfd[i].fd);
	free(s.heap);
	return rc;
}
