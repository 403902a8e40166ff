/* drl: the raft driver on a libuv loop. */
#include "raft/drvloop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>

#include <sodium.h>

struct drl {
	uv_loop_t *loop;
	struct drv *d;
	uv_timer_t timer;
	uv_prepare_t prep;
	drl_fail_fn on_fail;
	void *data;
	int failed_reported;
	int open_handles;
};

unsigned drl_seed(void)
{
	return randombytes_random();
}

raft_time drl_now(void *loop)
{
	return uv_now(loop);
}

static void check_failed(struct drl *l)
{
	int f = drv_failed(l->d);

	if (f != 0 && !l->failed_reported) {
		l->failed_reported = 1;
		uv_timer_stop(&l->timer);
		uv_prepare_stop(&l->prep);
		if (l->on_fail != NULL)
			l->on_fail(l->data, f);
	}
}

static void on_timer(uv_timer_t *t)
{
	struct drl *l = t->data;

	drv_tick(l->d);
	check_failed(l);
}

/* Before each poll: the engine's next deadline may have moved. */
static void on_prepare(uv_prepare_t *p)
{
	struct drl *l = p->data;
	raft_time next, now;

	check_failed(l);
	if (l->failed_reported)
		return;
	next = drv_next_timeout(l->d);
	now = uv_now(l->loop);
	uv_timer_start(&l->timer, on_timer, next > now ? next - now : 0, 0);
}

int drl_start(struct drl **out, uv_loop_t *loop, struct drv *d,
	      drl_fail_fn on_fail, void *data)
{
	struct drl *l;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	signal(SIGPIPE, SIG_IGN);
	l->loop = loop;
	l->d = d;
	l->on_fail = on_fail;
	l->data = data;
	uv_timer_init(loop, &l->timer);
	uv_prepare_init(loop, &l->prep);
	l->timer.data = l;
	l->prep.data = l;
	l->open_handles = 2;
	uv_prepare_start(&l->prep, on_prepare);
	*out = l;
	return 0;
}

static void on_close(uv_handle_t *h)
{
	struct drl *l = h->data;

	if (--l->open_handles == 0)
		free(l);
}

void drl_stop(struct drl *l)
{
	if (l == NULL)
		return;
	uv_timer_stop(&l->timer);
	uv_prepare_stop(&l->prep);
	uv_close((uv_handle_t *)&l->timer, on_close);
	uv_close((uv_handle_t *)&l->prep, on_close);
}
