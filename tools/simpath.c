/* ntpsim's model: deterministic path draws and the truth/server clocks. */
#include "tools/sim.h"

#include <math.h>
#include <time.h>

void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream)
{
	/* Distinct streams per server so one server's traffic does not shift
	 * another's draws. */
	r->s = seed ^ (stream * 0x9e3779b97f4a7c15ULL) ^ 0x5851f42d4c957f2dULL;
}

static uint64_t rng_next(struct sim_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double sim_rng_uniform(struct sim_rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static double draw_exp(struct sim_rng *r, double mean)
{
	double u = sim_rng_uniform(r);

	return mean > 0 ? -mean * log1p(-u) : 0;
}

void sim_path_draw(const struct sim_server *s, struct sim_rng *r,
		   struct sim_draw *out)
{
	/* Always four draws, in this order, whatever the outcome: the
	 * sequence then depends only on the number of requests. */
	double u_req = sim_rng_uniform(r);
	double j_fwd = draw_exp(r, s->fwd.jitter);
	double u_rep = sim_rng_uniform(r);
	double j_ret = draw_exp(r, s->ret.jitter);

	out->req_lost = u_req < s->fwd.loss;
	out->reply_lost = u_rep < s->ret.loss;
	out->fwd = s->fwd.base + j_fwd;
	out->ret = s->ret.base + j_ret;
}

static double since_t0(const struct sim_truth *t, int64_t sys_ns)
{
	return (double)(sys_ns - t->t0_ns) * 1e-9;
}

int64_t sim_truth_ns(const struct sim_truth *t, int64_t sys_ns)
{
	double err = t->offset + t->drift_ppm * 1e-6 * since_t0(t, sys_ns);

	return sys_ns + llround(err * 1e9);
}

int64_t sim_server_ns(const struct sim_truth *t, const struct sim_server *s,
		      int64_t sys_ns)
{
	double el = since_t0(t, sys_ns);
	double err = s->offset + s->drift_ppm * 1e-6 * el;

	for (int i = 0; i < s->n_steps; i++)
		if (el >= s->steps[i].at)
			err += s->steps[i].size;
	return sim_truth_ns(t, sys_ns) + llround(err * 1e9);
}

int sim_server_down(const struct sim_truth *t, const struct sim_server *s,
		    int64_t sys_ns)
{
	double el = since_t0(t, sys_ns);

	for (int i = 0; i < s->n_down; i++)
		if (el >= s->down[i].from && el < s->down[i].to)
			return 1;
	return 0;
}

int64_t sim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
