/* serverstats: counters from serve_get_stats(), rate from 1 s samples. */
#include "node/daemon/srvstats.h"
#include "node/base/json.h"
#include "node/base/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

struct srvstats {
	uv_timer_t timer;
	struct serve *serve;
	uint64_t start_ns;
	uint64_t last_ns;       /* uv_hrtime of the last sample */
	uint64_t last_received;
	double rate;            /* requests/s over the last interval */
};

int srvstats_format(const struct serve_stats *s, double rate_rps,
		    double uptime_s, char **text, char **json)
{
	uint64_t dropped = s->drop_short + s->drop_version + s->drop_mode +
			   s->drop_control + s->drop_auth + s->drop_denied +
			   s->drop_ratelimit + s->drop_unanswerable +
			   s->drop_governor;
	/* Upper bounds of the histogram buckets holding p50 and p99 (25 %
	 * wide); 0 when nothing has been answered yet. */
	uint64_t p50 = serve_hist_quantile_ns(s, 0.50);
	uint64_t p99 = serve_hist_quantile_ns(s, 0.99);
	struct json *j = json_new();
	struct strbuf t = STRBUF_INIT;
	char pct[64], limit[48];

	*text = *json = NULL;
	if (s->egress_limit)
		snprintf(limit, sizeof(limit), "%llu B/s (governor limiting)",
			 (unsigned long long)s->egress_limit);
	else
		snprintf(limit, sizeof(limit), "none");
	if (!j)
		return -1;
	json_obj_begin(j, NULL);
	json_uint(j, "received", s->received);
	json_uint(j, "replied", s->replied);
	json_uint(j, "kod_sent", s->kod_sent);
	json_uint(j, "rate_limited", s->rate_limited);
	json_uint(j, "rate_limited_answered", s->rl_leaked);
	json_obj_begin(j, "dropped");
	json_uint(j, "total", dropped);
	json_uint(j, "short", s->drop_short);
	json_uint(j, "version", s->drop_version);
	json_uint(j, "mode", s->drop_mode);
	json_uint(j, "control", s->drop_control);
	json_uint(j, "auth", s->drop_auth);
	json_uint(j, "denied", s->drop_denied);
	json_uint(j, "ratelimit", s->drop_ratelimit);
	json_uint(j, "unanswerable", s->drop_unanswerable);
	json_uint(j, "governor", s->drop_governor);
	json_obj_end(j);
	/* the egress governor's rate, B/s at the IP layer; 0: not limiting */
	json_uint(j, "egress_limit_bps", s->egress_limit);
	json_uint(j, "send_errors", s->send_errors);
	json_obj_begin(j, "reply_time_us");
	if (p50)
		json_double(j, "p50", (double)p50 / 1e3);
	else
		json_null(j, "p50");
	if (p99)
		json_double(j, "p99", (double)p99 / 1e3);
	else
		json_null(j, "p99");
	json_obj_end(j);
	/* Centi-req/s is finer than a 1 s sample can tell anyway. */
	json_double(j, "rate_rps", round(rate_rps * 100) / 100);
	json_uint(j, "uptime_s", (uint64_t)uptime_s);
	json_obj_end(j);
	*json = json_finish(j);
	json_free(j);

	if (p50)
		snprintf(pct, sizeof(pct), "<= %.1f / <= %.1f us",
			 (double)p50 / 1e3, (double)p99 / 1e3);
	else
		snprintf(pct, sizeof(pct), "-");
	strbuf_addf(&t,
		    "Requests received      : %llu\n"
		    "Replies sent           : %llu\n"
		    "KoD RATE sent          : %llu\n"
		    "Rate-limited           : %llu (KoD or dropped)\n"
		    "  answered by the leak : %llu\n"
		    "Dropped                : %llu\n"
		    "  short or malformed   : %llu\n"
		    "  bad version          : %llu\n"
		    "  not a client request : %llu\n"
		    "  mode 6/7 control     : %llu\n"
		    "  unverifiable MAC     : %llu\n"
		    "  denied (allow/deny)  : %llu\n"
		    "  rate limit           : %llu\n"
		    "  unanswerable source  : %llu\n"
		    "  egress governor      : %llu\n"
		    "Egress limit           : %s\n"
		    "Send errors            : %llu\n"
		    "Reply time p50 / p99   : %s\n"
		    "Current rate           : %.1f req/s\n"
		    "Uptime                 : %.0f s\n",
		    (unsigned long long)s->received,
		    (unsigned long long)s->replied,
		    (unsigned long long)s->kod_sent,
		    (unsigned long long)s->rate_limited,
		    (unsigned long long)s->rl_leaked,
		    (unsigned long long)dropped,
		    (unsigned long long)s->drop_short,
		    (unsigned long long)s->drop_version,
		    (unsigned long long)s->drop_mode,
		    (unsigned long long)s->drop_control,
		    (unsigned long long)s->drop_auth,
		    (unsigned long long)s->drop_denied,
		    (unsigned long long)s->drop_ratelimit,
		    (unsigned long long)s->drop_unanswerable,
		    (unsigned long long)s->drop_governor, limit,
		    (unsigned long long)s->send_errors, pct, rate_rps,
		    uptime_s);
	*text = strbuf_finish(&t, NULL);
	if (!*text || !*json) {
		free(*text);
		free(*json);
		*text = *json = NULL;
		return -1;
	}
	return 0;
}

static void on_sample(uv_timer_t *t)
{
	struct srvstats *st = t->data;
	struct serve_stats s;
	uint64_t now = uv_hrtime();

	serve_get_stats(st->serve, &s);
	if (now > st->last_ns)
		st->rate = (double)(s.received - st->last_received) * 1e9 /
			   (double)(now - st->last_ns);
	st->last_ns = now;
	st->last_received = s.received;
}

static void on_serverstats(void *arg, struct ctl_call *call, int argc,
			   char **argv)
{
	struct srvstats *st = arg;
	struct serve_stats s;
	char *text, *json;

	if (argc != 0) {
		ctl_reply(call, CTL_EUSAGE, "serverstats takes no arguments",
			  NULL, NULL);
		return;
	}
	serve_get_stats(st->serve, &s);
	if (srvstats_format(&s, st->rate,
			    (double)(uv_hrtime() - st->start_ns) / 1e9, &text,
			    &json) < 0) {
		ctl_reply(call, CTL_ERR, "out of memory", NULL, NULL);
		return;
	}
	ctl_reply(call, CTL_OK, NULL, text, json);
	free(text);
	free(json);
}

struct srvstats *srvstats_start(uv_loop_t *loop, struct ctl *ctl,
				struct serve *s)
{
	struct srvstats *st = calloc(1, sizeof(*st));
	struct serve_stats now;

	if (!st)
		return NULL;
	if (ctl_register(ctl, "serverstats", on_serverstats, st) < 0) {
		free(st);
		return NULL;
	}
	st->serve = s;
	st->start_ns = st->last_ns = uv_hrtime();
	serve_get_stats(s, &now);
	st->last_received = now.received;
	uv_timer_init(loop, &st->timer);
	st->timer.data = st;
	uv_timer_start(&st->timer, on_sample, 1000, 1000);
	return st;
}

static void timer_closed(uv_handle_t *h)
{
	free(h->data);
}

void srvstats_stop(struct srvstats *st)
{
	if (st)
		uv_close((uv_handle_t *)&st->timer, timer_closed);
}
