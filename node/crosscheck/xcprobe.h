/*
 * xcprobe: the cross-check's client sockets on the loop, one per address
 * family, sending members their requests and taking the replies with
 * kernel timestamps: the receive time (SO_TIMESTAMPNS) and, where the
 * kernel gives it, the transmit time (SO_TIMESTAMPING, software, on the
 * error queue). With the WireGuard mesh the IPv4 socket is bound to our
 * overlay address with IP_FREEBIND: it exists before the interface does,
 * and what it sends travels inside WireGuard. No socket here listens on a
 * known port: members answer on their serving port (node/serve).
 */
#ifndef NTPMC_XCPROBE_H
#define NTPMC_XCPROBE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct xcprobe;

struct xcprobe_cb {
	/* A datagram arrived; t4_raw is its kernel receive time (raw clock,
	 * clk.h), or our reading when the kernel gave none. */
	void (*reply)(void *arg, const struct sockaddr_storage *from,
		      const uint8_t *buf, size_t len, int64_t t4_raw);
	/* The kernel's transmit time of the send that returned tx_id. */
	void (*sent)(void *arg, int family, uint32_t tx_id, int64_t t1_raw);
	void *arg;
};

/* bind4: our overlay address, or NULL/"" for none. NULL after logging. */
struct xcprobe *xcprobe_open(uv_loop_t *loop, const char *bind4,
			     const struct xcprobe_cb *cb);
/* Sends buf to `to`; *t1_raw is a reading just before the send, *tx_id
 * what a later sent() callback names it by (*has_tx 0: none will come).
 * 0, or a negative errno. */
int xcprobe_send(struct xcprobe *p, const struct sockaddr *to,
		 socklen_t tolen, const uint8_t *buf, size_t len,
		 int64_t *t1_raw, uint32_t *tx_id, int *has_tx);
struct xcprobe_stats {
	uint64_t sent, send_errors, received, rx_errors;
};
void xcprobe_stats(const struct xcprobe *p, struct xcprobe_stats *out);
/* Closes the sockets; p is freed once the loop ran their close callbacks. */
void xcprobe_close(struct xcprobe *p);

#endif
