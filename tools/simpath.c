/* ntpsim's model: path draws keyed by time slot (common random numbers)
 * and the truth/server clocks. */
#include "tools/sim.h"

#include <math.h>
#include <string.h>
#include <time.h>

/* splitmix64's finaliser (Steele, Lea, Flood: "Fast splittable
 * pseudorandom number generators", OOPSLA 2014): a bijective mix, so
 * chaining it over the key's words gives independent-looking values for
 * keys that differ in any one word. */
static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double sim_key_uniform(const struct sim_key *k, unsigned field)
{
	uint64_t h = mix(k->seed ^ 0x5851f42d4c957f2dULL);

	h = mix(h ^ k->stream);
	h = mix(h ^ k->slot);
	h = mix(h ^ (k->sub << 3 | field));
	return (double)(h >> 11) * 0x1.0p-53;
}

static double draw_exp(const struct sim_key *k, unsigned field, double mean)
{
	double u = sim_key_uniform(k, field);

	return mean > 0 ? -mean * log1p(-u) : 0;
}

void sim_path_draw(const struct sim_server *s, const struct sim_key *k,
		   struct sim_draw *out)
{
	/* One field per number: a direction's loss and delay never depend
	 * on the other direction's parameters. */
	out->req_lost = sim_key_uniform(k, 0) < s->fwd.loss;
	out->reply_lost = sim_key_uniform(k, 2) < s->ret.loss;
	out->fwd = s->fwd.base + draw_exp(k, 1, s->fwd.jitter);
	out->ret = s->ret.base + draw_exp(k, 3, s->ret.jitter);
}

uint64_t sim_slot_of(double since_t0, double slot_len)
{
	double q = since_t0 / slot_len;

	return q > 0 ? (uint64_t)floor(q) : 0;
}

uint64_t sim_slots_next(struct sim_slots *t, const struct sockaddr_storage *a,
			socklen_t len, uint64_t slot)
{
	struct sim_slot_client *c = NULL;
	int i;

	for (i = 0; i < t->n && c == NULL; i++)
		if (t->c[i].len == len && memcmp(&t->c[i].addr, a, len) == 0)
			c = &t->c[i];
	if (c == NULL && t->n < SIM_SLOT_CLIENTS)
		c = &t->c[t->n++];
	if (c == NULL) {
		/* Full (clients such as chronyd use a new port per request):
		 * reuse the entry idle longest. */
		c = &t->c[0];
		for (i = 1; i < t->n; i++)
			if (t->c[i].slot < c->slot)
				c = &t->c[i];
	}
	if (c->len != len || memcmp(&c->addr, a, len) != 0) {
		memset(&c->addr, 0, sizeof(c->addr));
		memcpy(&c->addr, a, len);
		c->len = len;
		c->slot = slot;
		c->n = 0;
	}
	if (c->slot != slot) {
		c->slot = slot;
		c->n = 0;
	}
	return c->n++;
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
