/* ntpbench's report: text for people, one JSON object for scripts. */
#include <stdio.h>

#include "tools/ntpbench.h"

static const char *bad_names[BAD_N] = {
	"length", "mode", "version", "origin", "unsynchronized",
	"timestamps", "source", "poll",
};

uint64_t bench_bad_total(const struct result *r)
{
	uint64_t t = 0;
	int i;

	for (i = 0; i < BAD_N; i++)
		t += r->bad[i];
	return t;
}

static double us(const struct hist *h, double q)
{
	return (double)hist_quantile(h, q) / 1000.0;
}

void bench_report(const struct opts *o, const struct result *r,
		  const struct span *sp)
{
	double rate = sp->wall > 0 ? (double)r->valid / sp->wall : 0;
	double loss = r->sent ? 100.0 * (double)r->lost / (double)r->sent : 0;
	double cpu = sp->wall > 0 ? 100.0 * sp->cpu / sp->wall : 0;
	double wait = sp->wall > 0 ? 100.0 * sp->wait / sp->wall : 0;
	int i;

	if (o->json) {
		printf("{\"target\":\"%s\",\"port\":%s,\"sockets\":%d,"
		       "\"inflight\":%d,\"rate\":%.0f,\"clients\":%u,"
		       "\"duration_s\":%.3f,\"sent\":%llu,\"valid\":%llu,"
		       "\"valid_per_s\":%.0f,\"kod\":%llu,\"invalid\":%llu,"
		       "\"invalid_by_reason\":{",
		       o->addr, o->port, o->sockets, o->inflight, o->rate,
		       o->clients, sp->wall, (unsigned long long)r->sent,
		       (unsigned long long)r->valid, rate,
		       (unsigned long long)r->kod,
		       (unsigned long long)bench_bad_total(r));
		for (i = 0; i < BAD_N; i++)
			printf("%s\"%s\":%llu", i ? "," : "", bad_names[i],
			       (unsigned long long)r->bad[i]);
		printf("},\"late\":%llu,\"lost\":%llu,\"loss_pct\":%.4f,"
		       "\"overrun\":%llu,\"send_errors\":%llu,"
		       "\"rtt_us\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f},"
		       "\"server_us\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f},"
		       "\"cpu_pct\":%.1f,\"runq_wait_pct\":%.1f}\n",
		       (unsigned long long)r->late, (unsigned long long)r->lost,
		       loss, (unsigned long long)r->overrun,
		       (unsigned long long)r->send_err, us(&r->rtt, .5),
		       us(&r->rtt, .9), us(&r->rtt, .99), us(&r->server, .5),
		       us(&r->server, .9), us(&r->server, .99), cpu, wait);
		return;
	}
	printf("target %s port %s: %d sockets x %d in flight, %s, %u client "
	       "address(es), %.2f s\n", o->addr, o->port, o->sockets,
	       o->inflight, o->rate > 0 ? "open loop" : "closed loop",
	       o->clients ? o->clients : 1, sp->wall);
	if (o->rate > 0)
		printf("paced at %.0f requests/s, overruns %llu\n", o->rate,
		       (unsigned long long)r->overrun);
	printf("sent %llu  valid %llu (%.0f/s)  kod %llu  invalid %llu  "
	       "late %llu  lost %llu (%.3f %%)  send errors %llu\n",
	       (unsigned long long)r->sent, (unsigned long long)r->valid, rate,
	       (unsigned long long)r->kod, (unsigned long long)bench_bad_total(r),
	       (unsigned long long)r->late, (unsigned long long)r->lost, loss,
	       (unsigned long long)r->send_err);
	for (i = 0; i < BAD_N; i++)
		if (r->bad[i])
			printf("  invalid %s: %llu\n", bad_names[i],
			       (unsigned long long)r->bad[i]);
	printf("round trip us:    p50 %8.2f  p90 %8.2f  p99 %8.2f\n",
	       us(&r->rtt, .5), us(&r->rtt, .9), us(&r->rtt, .99));
	printf("server T3-T2 us:  p50 %8.2f  p90 %8.2f  p99 %8.2f\n",
	       us(&r->server, .5), us(&r->server, .9), us(&r->server, .99));
	printf("load generator CPU: %.1f %% of one core, %.1f %% waiting for "
	       "a CPU\n", cpu, wait);
}
