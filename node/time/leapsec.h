/*
 * Leap-second application: when a leap announced for the current UTC day
 * is due, that it happens once, the LI published after it, and the window
 * around it in which smearing sources must not be used. Pure: the caller
 * passes served times (Unix ns) and applies the step itself.
 *
 * A leap announced for the UTC day ending at midnight M is due when the
 * served time reaches M (LI 1, insert: 23:59:60 is served as a repeat of
 * 23:59:59, the correction steps back 1 s) or M - 1 s (LI 2, delete:
 * 23:59:59 never happens, the correction steps forward 1 s), as the
 * kernel does it (STA_INS / STA_DEL) and chrony's `leapsecmode step`.
 */
#ifndef NTPMC_LEAPSEC_H
#define NTPMC_LEAPSEC_H

#include <stdint.h>

#define LEAPSEC_DAY_NS (86400LL * 1000000000LL)
/* Samples whose exchange comes this close to the leap are discarded: a
 * reply measured across the step is off by up to 1 s, and a server may
 * repeat 23:59:59 (kernel) or be a little late applying it. */
#define LEAPSEC_GUARD_NS 2000000000LL
/* Google and AWS smear a leap linearly from noon to noon UTC (GCP's
 * metadata server +-12 h): smearing sources are unusable this close. */
#define LEAPSEC_SMEAR_NS (12LL * 3600 * 1000000000LL)

struct leapsec;

struct leapsec *leapsec_new(void);
void leapsec_free(struct leapsec *l);

/*
 * What the node announces at served time now (li 0..2, for the UTC day
 * containing now): LI 1/2 makes that day's leap pending, LI 0 for the
 * day of a pending leap withdraws it. A day whose leap was already
 * applied is ignored (after an inserted leap the served time is that day
 * again for one second).
 */
void leapsec_announce(struct leapsec *l, int64_t now, int li);
/* The pending leap's moment (served ns, see above) and its LI; 0 none. */
int64_t leapsec_moment(const struct leapsec *l, int *li);
/* LI (1/2) of the pending leap if it is due at now, else 0. */
int leapsec_due(const struct leapsec *l, int64_t now);
/* The pending leap was applied (by the caller or the kernel): it is
 * counted, its day remembered, nothing is pending any more. */
void leapsec_applied(struct leapsec *l);
/* The same, not counted: the leap did not happen here (kernel). */
void leapsec_skipped(struct leapsec *l);
/* The LI to publish at now given the announced li: 0 on the day whose
 * leap was applied, the pending leap's on its day (announced earlier:
 * holdover has no vote), else li. */
int leapsec_li(const struct leapsec *l, int64_t now, int li);
/* now within LEAPSEC_SMEAR_NS of a pending or applied leap's midnight. */
int leapsec_window(const struct leapsec *l, int64_t now);
/* Leaps applied: inserted (LI 1) or deleted (LI 2). */
uint64_t leapsec_count(const struct leapsec *l, int li);
/* Midnight (Unix s) ending the day of the last applied leap, 0 none. */
int64_t leapsec_last(const struct leapsec *l, int *li);

#endif
