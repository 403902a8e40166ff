/*
 * The published time state: one writer (the time engine, or the static
 * local-stratum setup), many lock-free readers (serving threads).
 * Served time = raw + offset + freq * (raw - base) (virtual discipline);
 * with the kernel discipline offset and freq stay 0.
 */
#ifndef NTPMC_TSTATE_H
#define NTPMC_TSTATE_H

#include <stdint.h>

struct tstate {
	uint8_t leap;          /* LI: 0..2, 3 = unsynchronized */
	uint8_t stratum;       /* 0 = unsynchronized */
	int8_t precision;      /* log2 seconds */
	uint32_t refid;        /* host order; written big-endian on the wire */
	double root_delay;     /* seconds */
	double root_disp;      /* seconds, at ref_ns */
	int64_t ref_ns;        /* served time of the last update, 0 = never */
	double corr_offset;    /* seconds, at corr_base_ns */
	double corr_freq;      /* s/s */
	int64_t corr_base_ns;  /* raw ns */
};

void tstate_publish(const struct tstate *s);
void tstate_read(struct tstate *out);
/* Served time in ns since the Unix epoch for a raw reading. */
int64_t tstate_served_ns(const struct tstate *s, int64_t raw_ns);
/* Root dispersion at served time now_ns: grows at 15 ppm (RFC 5905 PHI). */
double tstate_root_disp_at(const struct tstate *s, int64_t now_ns);

#endif
