/*
 * pchk: `ntpctl pool-check`, judged from the member's own history
 * (phist.h) against pool.ntp.org's entry conditions (a permanent server
 * with static upstreams that are not the pool itself, run for 48 hours
 * with uptime above 99 %: https://www.ntppool.org/en/join.html) and the
 * fleet's thresholds (docs/monitoring.md): stratum target 2, critical
 * above 3; offset under 10 ms, warning above 50 ms; jitter under 50 ms,
 * warning above 100 ms; frequency under 5 ppm, warning above 10 ppm;
 * uptime critical under 95 %. Pure: samples in, lines out.
 */
#ifndef NTPMC_PCHK_H
#define NTPMC_PCHK_H

#include <stddef.h>
#include <stdint.h>

#include "node/metrics/phist.h"

#define PCHK_DEFAULT_HOURS 48
#define PCHK_MAX_HOURS PHIST_HOURS
#define PCHK_LINES 10

enum pchk_status { PCHK_PASS, PCHK_WARN, PCHK_FAIL, PCHK_UNKNOWN };

struct pchk_line {
	const char *name;
	enum pchk_status status;
	double value;           /* NaN: none */
	const char *unit;
	char detail[200];
};

struct pchk_in {
	const struct phist_sample *s;   /* the window's samples, oldest first */
	size_t n;
	int64_t now;                    /* Unix minute (excluded) */
	int hours;
	int64_t first;                  /* oldest minute held, 0 none */
	unsigned bad;                   /* unreadable records */
	const char *const *upstreams;   /* configured upstream/pool names */
	int n_up;
};

struct pchk_result {
	int hours;
	int64_t from, to;               /* Unix minutes judged */
	size_t samples;
	int ready;                      /* no line failed */
	int n;
	struct pchk_line l[PCHK_LINES];
};

void pchk_eval(const struct pchk_in *in, struct pchk_result *r);
/* malloc()ed renderings; NULL when out of memory. */
char *pchk_text(const struct pchk_result *r);
char *pchk_json(const struct pchk_result *r);
/* 1 when name is pool.ntp.org or one of its zones (*.pool.ntp.org). */
int pchk_is_ntp_pool(const char *name);

#endif
