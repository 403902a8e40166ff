/*
 * The time engine's life cycle. Flow per good reply (sync_poll.c):
 * source_reply() (checks, sample into the source's filter) ->
 * sync_select_run() (estimates of every source at one instant,
 * select_run()) -> sync_claim_apply() (disc_update(), publish). A 1 s
 * housekeeping timer re-runs the selection (first-claim deadline, ageing,
 * holdover), replaces bad pool members, resolves the names of unreachable
 * upstreams again and saves the frequency. The
 * modules are listed in sync_int.h.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/base/log.h"
#include "node/time/sync_int.h"

static void house_cb(uv_timer_t *t)
{
	struct sync *sy = t->data;

	sync_names_check(sy);
	sync_select_run(sy, 0);
	if (sy->claimed_once && sy->saved_freq != disc_freq(sy->disc) &&
	    sync_mono_ns() - sy->last_save_mono > SYNC_SAVE_INTERVAL_NS)
		sync_claim_save_freq(sy);
}

void sync_conf_defaults(struct sync_conf *t)
{
	memset(t, 0, sizeof(*t));
	t->minsources = 1;
	t->maxdistance = SYNC_DEFAULT_MAXDISTANCE;
	t->maxslewrate = SYNC_DEFAULT_MAXSLEWRATE;
	t->makestep = SYNC_DEFAULT_MAKESTEP;
	t->makestep_limit = SYNC_DEFAULT_MAKESTEP_LIMIT;
	t->holdover = SYNC_DEFAULT_HOLDOVER;
	t->discipline = DISC_VIRTUAL;
}

struct sync *sync_start(uv_loop_t *loop, const struct sync_conf *c,
			const struct sync_persist *persist,
			disc_adjtimex_fn adjtimex)
{
	struct sync *sy = calloc(1, sizeof(*sy));
	struct disc_params dp;
	char err[256];
	int i, j;

	if (!sy) {
		log_err("sync: out of memory");
		return NULL;
	}
	sy->loop = loop;
	sy->ct = *c;
	if (persist)
		sy->persist = *persist;
	sy->sys = -1;
	sy->fd4 = sy->fd6 = -1;
	sy->start_mono = sync_mono_ns();
	memset(&dp, 0, sizeof(dp));
	dp.mode = c->discipline;
	sy->mode = dp.mode;
	dp.maxslew = sy->ct.maxslewrate * 1e-6;
	dp.step_threshold = sy->ct.makestep;
	dp.step_limit = sy->ct.makestep_limit;
	dp.adjtimex = adjtimex;
	sy->disc = disc_new(&dp, clk_raw_ns());
	if (!sy->disc) {
		log_err("sync: cannot set up the %s discipline",
			dp.mode == DISC_KERNEL ? "kernel" : "virtual");
		free(sy);
		return NULL;
	}
	sy->lsec = leapsec_new();
	if (!sy->lsec) {
		log_err("sync: out of memory");
		disc_free(sy->disc);
		free(sy);
		return NULL;
	}
	if (sy->ct.leapfile[0]) {
		if (leap_load(sy->ct.leapfile, &sy->leap, err, sizeof(err)) < 0) {
			log_err("sync: leapfile: %s", err);
			leapsec_free(sy->lsec);
			disc_free(sy->disc);
			free(sy);
			return NULL;
		}
		if (leap_indicator(sy->leap, clk_raw_ns() / 1000000000) < 0)
			log_warnx("sync: leapfile %s has expired: ignored, "
				  "leap from the sources' vote",
				  sy->ct.leapfile);
	}
	uv_timer_init(loop, &sy->house);
	sy->house.data = sy;
	sy->open_handles++;
	uv_timer_init(loop, &sy->slew);
	sy->slew.data = sy;
	sy->open_handles++;
	uv_timer_init(loop, &sy->leap_timer);
	sy->leap_timer.data = sy;
	sy->open_handles++;
	sync_claim_restore_freq(sy);
	tstate_unsynced(&sy->ts);
	sync_claim_publish(sy, clk_raw_ns());

	for (i = 0; i < sy->ct.n_up; i++) {
		struct sync_entry *e = &sy->ent[sy->n_ent++];
		int n = sy->ct.up[i].pool ? sy->ct.up[i].maxsources : 1;

		e->sy = sy;
		e->cu = &sy->ct.up[i];
		e->first = sy->n_slot;
		e->retry_s = SYNC_RETRY_MIN_S;
		uv_timer_init(loop, &e->retry);
		e->retry.data = e;
		sy->open_handles++;
		for (j = 0; j < n && sy->n_slot < SYNC_MAX_SLOTS; j++) {
			struct sync_slot *sl = &sy->slot[sy->n_slot++];
			struct source_params sp = {
				.minpoll = e->cu->minpoll,
				.maxpoll = e->cu->maxpoll,
				.iburst = e->cu->iburst,
				.prefer = e->cu->prefer,
			};

			sl->sy = sy;
			sl->ent = e;
			sl->src = source_new(&sp);
			if (!sl->src)
				fatalx("sync: out of memory");
			uv_timer_init(loop, &sl->timer);
			sl->timer.data = sl;
			sy->open_handles++;
			e->n++;
		}
	}
	sy->fd4 = sync_poll_open(sy, AF_INET, &sy->poll4, &sy->txts4);
	sy->fd6 = sync_poll_open(sy, AF_INET6, &sy->poll6, &sy->txts6);
	if (sy->fd4 < 0 && sy->fd6 < 0) {
		log_err("sync: no UDP socket for upstream queries");
		sync_stop(sy);
		return NULL;
	}
	uv_timer_start(&sy->house, house_cb, 1000, 1000);
	for (i = 0; i < sy->n_ent; i++)
		sync_names_resolve(&sy->ent[i]);
	log_info("sync: %d source%s configured, %s discipline", sy->n_slot,
		 sy->n_slot == 1 ? "" : "s",
		 sy->mode == DISC_KERNEL ? "kernel" : "virtual");
	return sy;
}

static void free_all(struct sync *sy)
{
	int i;

	for (i = 0; i < sy->n_slot; i++)
		source_free(sy->slot[i].src);
	if (sy->fd4 >= 0)
		close(sy->fd4);
	if (sy->fd6 >= 0)
		close(sy->fd6);
	leap_free(sy->leap);
	leapsec_free(sy->lsec);
	disc_free(sy->disc);
	free(sy);
}

/* Every handle and pending lookup holds a reference; the last one frees. */
void sync_release(struct sync *sy)
{
	if (--sy->open_handles == 0)
		free_all(sy);
}

static void on_closed(uv_handle_t *h)
{
	sync_release(h->data);
}

static void close_handle(struct sync *sy, uv_handle_t *h)
{
	h->data = sy;
	uv_close(h, on_closed);
}

void sync_stop(struct sync *sy)
{
	int i;

	if (!sy)
		return;
	sy->stopping = 1;
	sync_claim_save_freq(sy);
	sy->open_handles++; /* held while closing */
	for (i = 0; i < sy->n_ent; i++) {
		if (sy->ent[i].resolving)
			uv_cancel((uv_req_t *)&sy->ent[i].gai);
		close_handle(sy, (uv_handle_t *)&sy->ent[i].retry);
	}
	for (i = 0; i < sy->n_slot; i++)
		close_handle(sy, (uv_handle_t *)&sy->slot[i].timer);
	if (sy->fd4 >= 0)
		close_handle(sy, (uv_handle_t *)&sy->poll4);
	if (sy->fd6 >= 0)
		close_handle(sy, (uv_handle_t *)&sy->poll6);
	close_handle(sy, (uv_handle_t *)&sy->house);
	close_handle(sy, (uv_handle_t *)&sy->slew);
	close_handle(sy, (uv_handle_t *)&sy->leap_timer);
	sync_release(sy);
}

