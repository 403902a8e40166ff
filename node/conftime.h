/*
 * Time-engine configuration (part of struct conf; directives parsed in
 * conftime.c, defaults in conf_time_defaults()).
 */
#ifndef NTPMC_CONFTIME_H
#define NTPMC_CONFTIME_H

#include <limits.h>
#include <stdint.h>

#define CONF_MAX_UPSTREAM 32
#define CONF_HOST_MAX 254
#define CONF_POLL_MIN (-6)
#define CONF_POLL_MAX 17
#define CONF_DEFAULT_MINPOLL 6
#define CONF_DEFAULT_MAXPOLL 10
#define CONF_DEFAULT_MAXSOURCES 4
#define CONF_DEFAULT_MAXDISTANCE 3.0   /* s, chrony's */
#define CONF_DEFAULT_MAXSLEWRATE 500.0 /* ppm, see docs/time-engine.md */
#define CONF_DEFAULT_MAKESTEP 1.0      /* s */
#define CONF_DEFAULT_MAKESTEP_LIMIT 3
#define CONF_DEFAULT_HOLDOVER 3600.0   /* s */

struct conf_upstream {
	char host[CONF_HOST_MAX + 1]; /* name or numeric address */
	uint16_t port;
	int8_t minpoll, maxpoll;      /* log2 s, -6..17 */
	uint8_t iburst, prefer;
	uint8_t smearing;             /* smears leap seconds (cloud NTP): not
					 used within 12 h of one, no LI vote */
	uint8_t pool;                 /* `pool`: up to maxsources members */
	int maxsources;
};

struct conf_time {
	struct conf_upstream up[CONF_MAX_UPSTREAM];
	int n_up;
	int minsources;
	double maxdistance;           /* s */
	double maxslewrate;           /* ppm */
	double makestep;              /* s */
	int makestep_limit;           /* < 0: always */
	double holdover;              /* s */
	char leapfile[PATH_MAX];      /* "" = none */
	char hostsfile[PATH_MAX];     /* test-only: names from here, no DNS */
	int clock_error_set;          /* test-only clock error */
	double clock_error_offset;    /* s */
	double clock_error_drift;     /* ppm */
	int up_line;                  /* first upstream/pool line (messages) */
};

void conf_time_defaults(struct conf_time *t);

/* Directive parsers for conf.c's table (conf_parse.h conventions). */
struct conf_ctx;
int conf_parse_upstream(struct conf_ctx *x, int argc, char **argv);
int conf_parse_minsources(struct conf_ctx *x, int argc, char **argv);
int conf_parse_maxdistance(struct conf_ctx *x, int argc, char **argv);
int conf_parse_maxslewrate(struct conf_ctx *x, int argc, char **argv);
int conf_parse_makestep(struct conf_ctx *x, int argc, char **argv);
int conf_parse_holdover(struct conf_ctx *x, int argc, char **argv);
int conf_parse_leapfile(struct conf_ctx *x, int argc, char **argv);
int conf_parse_hostsfile(struct conf_ctx *x, int argc, char **argv);
int conf_parse_clock_error(struct conf_ctx *x, int argc, char **argv);
/* After the whole file: checks across directives. */
void conf_time_finish(struct conf_ctx *x);

#endif
