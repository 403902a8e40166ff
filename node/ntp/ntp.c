/* NTP packet codec: see ntp.h. */
#include "node/ntp/ntp.h"

#include <math.h>
#include <string.h>

/* RFC 7822 7.5: a legacy MAC is a 4-byte key id and a 16 (MD5) or 20
 * (SHA-1) byte digest. */
#define MAC_LEN_MD5 20
#define MAC_LEN_SHA1 24
/* RFC 7822 3: an extension field is at least 16 bytes, a multiple of 4. */
#define EF_MIN_LEN 16
/* RFC 8915 5.6: NTS Authenticator and Encrypted Extension Fields. */
#define EF_NTS_AUTH 0x0404

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, v >> 32);
	put32(p + 4, (uint32_t)v);
}

void ntp_decode(const uint8_t *b, struct ntp_hdr *h)
{
	h->leap = b[0] >> 6;
	h->version = (b[0] >> 3) & 7;
	h->mode = b[0] & 7;
	h->stratum = b[1];
	h->poll = (int8_t)b[2];
	h->precision = (int8_t)b[3];
	h->root_delay = get32(b + 4);
	h->root_disp = get32(b + 8);
	h->refid = get32(b + 12);
	h->ref = get64(b + 16);
	h->org = get64(b + 24);
	h->rec = get64(b + 32);
	h->xmt = get64(b + 40);
}

void ntp_encode(const struct ntp_hdr *h, uint8_t *b)
{
	b[0] = (uint8_t)((h->leap & 3) << 6 | (h->version & 7) << 3 |
			 (h->mode & 7));
	b[1] = h->stratum;
	b[2] = (uint8_t)h->poll;
	b[3] = (uint8_t)h->precision;
	put32(b + 4, h->root_delay);
	put32(b + 8, h->root_disp);
	put32(b + 12, h->refid);
	put64(b + 16, h->ref);
	put64(b + 24, h->org);
	put64(b + 32, h->rec);
	put64(b + 40, h->xmt);
}

/*
 * What follows the header (RFC 7822 7.5): nothing, a legacy MAC, or
 * extension fields optionally followed by a MAC. A remainder of exactly a
 * MAC's length is a MAC (an extension field needs 16+ bytes and a last one
 * without MAC 28+, so 20 and 24 are unambiguous in practice).
 */
static enum ntp_class classify_trailer(const uint8_t *p, size_t rem,
				       int version)
{
	int nts_auth = 0;

	if (rem == 0)
		return NTP_CLIENT;
	if (rem == MAC_LEN_MD5 || rem == MAC_LEN_SHA1)
		return NTP_DROP_AUTH;
	/* Extension fields exist only in NTPv4 (RFC 7822 is v4 only). */
	if (version < 4)
		return NTP_DROP_SHORT;
	while (rem > 0) {
		size_t len;

		if (rem == MAC_LEN_MD5 || rem == MAC_LEN_SHA1)
			return NTP_DROP_AUTH;
		if (rem < EF_MIN_LEN)
			return NTP_DROP_SHORT;
		len = ((size_t)p[2] << 8) | p[3];
		if (len < EF_MIN_LEN || len % 4 != 0 || len > rem)
			return NTP_DROP_SHORT;
		if ((((unsigned)p[0] << 8) | p[1]) == EF_NTS_AUTH)
			nts_auth = 1;
		p += len;
		rem -= len;
	}
	/* An NTS request is authenticated by this field; we hold no keys. */
	return nts_auth ? NTP_DROP_AUTH : NTP_CLIENT;
}

enum ntp_class ntp_classify(const uint8_t *buf, size_t len)
{
	int version, mode;

	if (len < NTP_HDR_LEN)
		return NTP_DROP_SHORT;
	version = (buf[0] >> 3) & 7;
	mode = buf[0] & 7;
	/* Control and private modes first: they are the amplification
	 * vectors, whatever version they claim. */
	if (mode == 6 || mode == 7)
		return NTP_DROP_CONTROL;
	if (version < 1 || version > 4)
		return NTP_DROP_VERSION;
	/* NTPv1 had no mode field: its requests carry 0 (RFC 1059). */
	if (mode != NTP_MODE_CLIENT && !(version == 1 && mode == 0))
		return NTP_DROP_MODE;
	return classify_trailer(buf + NTP_HDR_LEN, len - NTP_HDR_LEN, version);
}

/* Floor division and modulo for possibly negative ns. */
static void split_ns(int64_t ns, int64_t *sec, int64_t *rem)
{
	*sec = ns / 1000000000;
	*rem = ns % 1000000000;
	if (*rem < 0) {
		*rem += 1000000000;
		*sec -= 1;
	}
}

uint64_t ntp_ts_from_ns(int64_t unix_ns)
{
	int64_t sec, rem;
	uint64_t frac;

	split_ns(unix_ns, &sec, &rem);
	/* Round the fraction up so that ntp_ts_to_ns() (which truncates)
	 * gives back exactly the same ns: 1e9 / 2^32 < 1. */
	frac = (((uint64_t)rem << 32) + 999999999u) / 1000000000u;
	/* RFC 5905 6: the era number is not on the wire; keep sec mod 2^32. */
	return (uint64_t)(uint32_t)(sec + NTP_UNIX_OFFSET) << 32 | frac;
}

int64_t ntp_ts_to_ns(uint64_t ts, int64_t pivot_ns)
{
	int64_t psec, prem, p, s;
	uint32_t wire = (uint32_t)(ts >> 32);
	uint64_t frac_ns = ((ts & 0xffffffffu) * 1000000000u) >> 32;

	split_ns(pivot_ns, &psec, &prem);
	p = psec + NTP_UNIX_OFFSET;
	/* RFC 5905 6: the full seconds are the value congruent to the wire
	 * seconds mod 2^32 nearest the pivot (within 68 years). */
	s = p + (int32_t)(wire - (uint32_t)p);
	return (s - NTP_UNIX_OFFSET) * 1000000000 + (int64_t)frac_ns;
}

uint32_t ntp_short_from_s(double s)
{
	double v;

	if (!(s > 0.0))
		return 0;
	v = ceil(s * 65536.0);
	if (v >= 4294967295.0)
		return 0xffffffffu;
	return (uint32_t)v;
}

double ntp_short_to_s(uint32_t v)
{
	return v / 65536.0;
}

static int unsynced(const struct tstate *st)
{
	return st->leap == NTP_LEAP_UNSYNC || st->stratum == 0;
}

/* Fields shared by the normal reply and the KoD (RFC 5905 9.2, 7.4). */
static void reply_common(const uint8_t *req, const struct tstate *st,
			 int64_t rx_ns, struct ntp_hdr *h)
{
	memset(h, 0, sizeof(*h));
	h->version = (req[0] >> 3) & 7;
	h->mode = NTP_MODE_SERVER;
	h->poll = (int8_t)req[2];
	h->precision = st->precision;
	h->org = get64(req + 40);
	h->rec = ntp_ts_from_ns(rx_ns);
}

size_t ntp_build_reply(const uint8_t *req, const struct tstate *st,
		       int64_t rx_ns, uint8_t *out)
{
	struct ntp_hdr h;

	reply_common(req, st, rx_ns, &h);
	if (unsynced(st)) {
		/* Still answered, as chrony does: clients see LI=3 and
		 * stratum 0 and will not use us. */
		h.leap = NTP_LEAP_UNSYNC;
		h.stratum = 0;
		h.refid = 0;
	} else {
		h.leap = st->leap;
		h.stratum = st->stratum;
		h.refid = st->refid;
	}
	h.root_delay = ntp_short_from_s(st->root_delay);
	if (st->local) {
		/* The local clock is its own reference, updated "now". */
		h.root_disp = ntp_short_from_s(st->root_disp);
		h.ref = ntp_ts_from_ns(rx_ns);
	} else {
		h.root_disp = ntp_short_from_s(tstate_root_disp_at(st, rx_ns));
		h.ref = st->ref_ns ? ntp_ts_from_ns(st->ref_ns) : 0;
	}
	ntp_encode(&h, out);
	return NTP_HDR_LEN;
}

size_t ntp_build_kod(const uint8_t *req, const struct tstate *st,
		     int64_t rx_ns, uint8_t *out)
{
	struct ntp_hdr h;

	reply_common(req, st, rx_ns, &h);
	h.leap = NTP_LEAP_UNSYNC;
	h.stratum = 0;
	h.refid = NTP_KOD_RATE;
	ntp_encode(&h, out);
	return NTP_HDR_LEN;
}

void ntp_set_xmt(uint8_t *reply, int64_t tx_ns)
{
	put64(reply + 40, ntp_ts_from_ns(tx_ns));
}
