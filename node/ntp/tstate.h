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
	uint8_t local;         /* `local stratum N`: the clock is its own
				* reference, ref time = now, no PHI growth */
};

/* Precision (log2 s) the serving path claims: about 1 us, the order of
 * a timestamp's error between the kernel and the wire. */
#define TSTATE_PRECISION (-20)
/* chrony's refid for its local reference: 127.127.1.1. */
#define TSTATE_REFID_LOCAL 0x7f7f0101u
/* RFC 5905 PHI: dispersion growth, 15 ppm. */
#define TSTATE_PHI 15e-6

/* Before the first publish, readers see the unsynchronized default:
 * LI 3, stratum 0, refid 0 (answered, never used by clients). */
void tstate_publish(const struct tstate *s);
void tstate_read(struct tstate *out);
/* Publishes `local stratum N`: leap 0, stratum N, refid 127.127.1.1. */
void tstate_set_local(int stratum);
/* The default unsynchronized state, e.g. for tests. */
void tstate_unsynced(struct tstate *out);
/* Served time in ns since the Unix epoch for a raw reading. */
int64_t tstate_served_ns(const struct tstate *s, int64_t raw_ns);
/* Served time now (ns since the Unix epoch): the one realtime clock
 * (clk.h) with the published correction. synced (may be NULL) says
 * whether the published state claims synchronization (a `local stratum`
 * clock does). The control plane's wall clock: with the virtual
 * discipline the kernel clock itself is known to be wrong. */
int64_t tstate_now_ns(int *synced);
/* Root dispersion at served time now_ns: grows at 15 ppm (RFC 5905 PHI). */
double tstate_root_disp_at(const struct tstate *s, int64_t now_ns);

#endif
