/*
 * ntpprobe: ask one NTP server for the time at a fixed interval and print,
 * per query, how far its served time is from ntpsim's truth. The probe is
 * itself the reference: its send and receive instants are converted to
 * truth with the ntpsim status file, and on loopback the path delay is
 * microseconds, so the NTP offset formula (RFC 5905 8) gives served - truth.
 */
#include "tools/sim.h"
#include "node/ntp/ntp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>


struct probe {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct sim_truth truth;
	double interval, timeout, duration;
	long count;
	int quiet;
	/* answered samples, for the summary */
	double *err;
	long n_err, n_sent, n_sync, n_kod;
	double max_jump;
	int have_prev;
	double prev_err;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int resolve(struct probe *p, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *res;

	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	memcpy(&p->addr, res->ai_addr, res->ai_addrlen);
	p->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

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

/* One exchange: 1 answered (sample printed), 0 no valid answer, -1 error. */
static int query(struct probe *p, int fd, double t_rel)
{
	struct ntp_hdr q = { .version = 4, .mode = NTP_MODE_CLIENT }, h;
	uint8_t req[NTP_HDR_LEN], rep[1024];
	int64_t t1, t4, t2, t3, deadline;
	double err, rtt;
	int li, stratum;

	/* A random transmit timestamp: the reply must echo it (RFC 5905 8). */
	if (getrandom(&q.xmt, sizeof(q.xmt), 0) != sizeof(q.xmt))
		return -1;
	ntp_encode(&q, req);
	t1 = sim_now_ns();
	if (sendto(fd, req, sizeof(req), 0, (struct sockaddr *)&p->addr,
		   p->addr_len) != sizeof(req))
		return -1;
	p->n_sent++;
	deadline = mono_ns() + (int64_t)(p->timeout * 1e9);
	for (;;) {
		union {
			char b[CMSG_SPACE(sizeof(struct timespec))];
			struct cmsghdr align;
		} ctl;
		struct iovec iov = { rep, sizeof(rep) };
		struct msghdr m = { .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.b,
				    .msg_controllen = sizeof(ctl.b) };
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - mono_ns();
		ssize_t n;

		if (left <= 0)
			break;
		if (poll(&pfd, 1, (int)(left / 1000000) + 1) <= 0)
			continue;
		n = recvmsg(fd, &m, MSG_DONTWAIT);
		if (n < 0)
			continue;
		t4 = rx_time(&m);
		if (n < NTP_HDR_LEN)
			continue;
		ntp_decode(rep, &h);
		if (h.mode != NTP_MODE_SERVER || h.org != q.xmt)
			continue; /* stale or foreign: keep waiting */
		if (h.stratum == 0 && h.leap == NTP_LEAP_UNSYNC) {
			/* Kiss-o'-death (RFC 5905 7.4): no time in it. */
			char code[5];

			for (int k = 0; k < 4; k++) {
				char ch = (char)(h.refid >> (24 - 8 * k));

				code[k] = ch >= 'A' && ch <= 'Z' ? ch : '?';
			}
			code[4] = '\0';
			p->n_kod++;
			if (!p->quiet)
				printf("%.3f kod %s\n", t_rel, code);
			return 0;
		}
		li = h.leap;
		stratum = h.stratum;
		t2 = ntp_ts_to_ns(h.rec, t1);
		t3 = ntp_ts_to_ns(h.xmt, t4);
		err = ((double)(t2 - sim_truth_ns(&p->truth, t1)) +
		       (double)(t3 - sim_truth_ns(&p->truth, t4))) *
		      0.5e-9;
		rtt = (double)((t4 - t1) - (t3 - t2)) * 1e-9;
		if (!p->quiet)
			printf("%.3f %.9f %d %d %.6f\n", t_rel, err, li, stratum,
			       rtt);
		if (li != 3 && stratum != 0)
			p->n_sync++;
		if (p->have_prev && fabs(err - p->prev_err) > p->max_jump)
			p->max_jump = fabs(err - p->prev_err);
		p->have_prev = 1;
		p->prev_err = err;
		p->err[p->n_err++] = err;
		return 1;
	}
	if (!p->quiet)
		printf("%.3f lost\n", t_rel);
	return 0;
}

static int cmp_abs(const void *a, const void *b)
{
	double x = fabs(*(const double *)a), y = fabs(*(const double *)b);

	return x < y ? -1 : x > y;
}

static void summary(struct probe *p)
{
	double med = 0, p95 = 0, mx = 0, mean = 0;

	for (long i = 0; i < p->n_err; i++)
		mean += p->err[i];
	if (p->n_err > 0) {
		mean /= (double)p->n_err;
		qsort(p->err, (size_t)p->n_err, sizeof(double), cmp_abs);
		med = fabs(p->err[(p->n_err - 1) / 2]);
		p95 = fabs(p->err[(long)ceil(0.95 * (double)p->n_err) - 1]);
		mx = fabs(p->err[p->n_err - 1]);
	}
	fprintf(stderr,
		"summary sent %ld answered %ld sync %ld kod %ld mean %.9f "
		"median_abs %.9f p95_abs %.9f max_abs %.9f max_jump %.9f\n",
		p->n_sent, p->n_err, p->n_sync, p->n_kod, mean, med, p95, mx,
		p->max_jump);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: ntpprobe -a ADDR -p PORT [--status FILE] "
		   "[--interval S] [--count N | --duration S]\n"
		   "                [--timeout S] [-q]\n"
		   "Prints 'T_REL ERROR LI STRATUM RTT' per answer, "
		   "'T_REL kod CODE' per\nkiss-o'-death, 'T_REL lost' "
		   "otherwise,\n"
		   "and a summary line on stderr. ERROR = served - truth, s.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct probe p = { .interval = 1, .timeout = 0.5, .count = -1 };
	const char *host = NULL, *port = "123", *status = NULL;
	int64_t start, next;
	long max_samples;
	int c, fd, one = 1, rc = 1;

	while ((c = getopt_long(argc, argv, "a:p:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			host = optarg;
			break;
		case 'p':
			port = optarg;
			break;
		case 't':
			status = optarg;
			break;
		case 'i':
			if (sim_parse_duration(optarg, &p.interval) || p.interval <= 0)
				goto bad;
			break;
		case 'd':
			if (sim_parse_duration(optarg, &p.duration) || p.duration <= 0)
				goto bad;
			break;
		case 'T':
			if (sim_parse_duration(optarg, &p.timeout) || p.timeout <= 0)
				goto bad;
			break;
		case 'n':
			p.count = strtol(optarg, NULL, 10);
			if (p.count <= 0 || p.count > 10000000)
				goto bad;
			break;
		case 'q':
			p.quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (host == NULL || optind != argc || (p.count < 0 && p.duration <= 0))
		goto bad;
	if (resolve(&p, host, port) != 0) {
		fprintf(stderr, "ntpprobe: bad address %s port %s\n", host, port);
		return 2;
	}
	if (status && sim_read_truth(status, &p.truth) != 0) {
		fprintf(stderr, "ntpprobe: %s: not an ntpsim status file\n",
			status);
		return 2;
	}
	max_samples = p.count > 0 ? p.count : (long)(p.duration / p.interval) + 2;
	p.err = calloc((size_t)max_samples, sizeof(double));
	fd = socket(p.addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p.err == NULL || fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0) {
		fprintf(stderr, "ntpprobe: setup: %s\n", strerror(errno));
		free(p.err);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	start = next = mono_ns();
	for (long i = 0; p.n_sent < max_samples; i++) {
		double t_rel = (double)(next - start) * 1e-9;
		struct timespec ts;

		if (p.count < 0 && t_rel >= p.duration)
			break;
		if (p.count > 0 && i >= p.count)
			break;
		if (query(&p, fd, t_rel) < 0) {
			fprintf(stderr, "ntpprobe: send: %s\n", strerror(errno));
			goto out;
		}
		next += (int64_t)(p.interval * 1e9);
		ts.tv_sec = next / 1000000000;
		ts.tv_nsec = next % 1000000000;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts,
				       NULL) == EINTR)
			;
	}
	summary(&p);
	rc = 0;
out:
	close(fd);
	free(p.err);
	return rc;
bad:
	usage(stderr);
	return 2;
}
