/*
 * prom: a writer of the Prometheus text exposition format, version 0.0.4
 * (prometheus/docs content/docs/instrumenting/exposition_formats.md):
 * "# HELP" and "# TYPE" once per family, then its samples, label values
 * and help text escaped. Pure: it only appends to a growing buffer.
 */
#ifndef NTPMC_PROM_H
#define NTPMC_PROM_H

#include <stddef.h>
#include <stdint.h>

struct prom;

/* The label pairs of a sample: { "name", "value", ..., NULL }. */
typedef const char *const prom_labels[];

/* NULL when out of memory. */
struct prom *prom_new(void);
/* Frees p; *len gets the text's length. Returns the malloc()ed text
 * (NUL-terminated), or NULL if any append ran out of memory. */
char *prom_finish(struct prom *p, size_t *len);
void prom_free(struct prom *p);

/* type: "gauge", "counter" or "histogram". */
void prom_family(struct prom *p, const char *name, const char *type,
		 const char *help);
/* labels may be NULL. NaN and infinities are written as Prometheus
 * spells them (NaN, +Inf, -Inf). */
void prom_gauge(struct prom *p, const char *name, const char *const *labels,
		double v);
/* Counters as exact integers (a double would round above 2^53). */
void prom_count(struct prom *p, const char *name, const char *const *labels,
		uint64_t v);
/*
 * A histogram's samples: name_bucket{le=...} for each upper bound in le[]
 * (ascending, seconds) with the cumulative counts cum[], the +Inf bucket
 * (count), name_sum and name_count.
 */
void prom_histogram(struct prom *p, const char *name, int n,
		    const double *le, const uint64_t *cum, double sum,
		    uint64_t count);

#endif
