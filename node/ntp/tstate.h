/*
 * The published time state: one writer thread (the loop: the time engine,
 * the static local-stratum setup, the cross-check's verdict), many
 * lock-free readers (serving threads).
 * Served time = raw + offset + freq * (raw - base) (virtual discipline);
 * with the kernel discipline offset and freq stay 0.
 *
 * The claim and the verdict: the engine publishes what it claims; the
 * cross-check (node/crosscheck) may withdraw that claim, and while it is
 * withdrawn every reader of tstate_read() sees the state of an
 * unsynchronized node (LI 3, stratum 0, refid 0, no root delay or
 * dispersion, no reference time) with the engine's correction kept, so a
 * suspect answers exactly as it does when it is not synchronized.
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
	uint8_t withdrawn;     /* the claim is withdrawn (tstate_withdraw);
				  set by tstate_publish, not by writers */
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
/* The engine's own claim, whether or not it is withdrawn (withdrawn says
 * which): what the cross-check answers its peers and judges itself by. */
void tstate_read_claim(struct tstate *out);
/* Withdraws the claim (on 1) or gives it back (0), at once and for every
 * later publish, until called again. Same thread as tstate_publish. */
void tstate_withdraw(int on);
/* Publishes `local stratum N`: leap 0, stratum N, refid 127.127.1.1. */
void tstate_set_local(int stratum);
/* The default unsynchronized state, e.g. for tests. */
void tstate_unsynced(struct tstate *out);
/* Served time in ns since the Unix epoch for a raw reading. */
int64_t tstate_served_ns(const struct tstate *s, int64_t raw_ns);
/* Served time now (ns since the Unix epoch): the one realtime clock
 * (clk.h) with the published correction. synced (may be NULL) says
 * whether the published state claims synchronization (a `local stratum`
 * clock does; a withdrawn claim does not). The control plane's wall clock: with the virtual
 * discipline the kernel clock itself is known to be wrong. */
int64_t tstate_now_ns(int *synced);
/* Root dispersion at served time now_ns: grows at 15 ppm (RFC 5905 PHI). */
double tstate_root_disp_at(const struct tstate *s, int64_t now_ns);

#endif
