#include "node/cluster/cstat.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/base/strbuf.h"

/* JSON string per RFC 8259 section 7: quote, backslash and controls. */
static void json_string(struct strbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	strbuf_addf(b, "\"");
	for (; *p; p++) {
		if (*p == '"' || *p == '\\')
			strbuf_addf(b, "\\%c", *p);
		else if (*p < 0x20)
			strbuf_addf(b, "\\u%04x", *p);
		else
			strbuf_addf(b, "%c", *p);
	}
	strbuf_addf(b, "\"");
}

const char *cstat_role_name(int role)
{
	switch (role) {
	case 0:
		return "standby";
	case 1:
		return "voter";
	case 2:
		return "spare";
	default:
		return "unknown";
	}
}

int cstat_fault_tolerance(const struct cstat *s)
{
	size_t i, voters = 0, up = 0;
	long ft;

	for (i = 0; i < s->n; i++) {
		if (s->m[i].role != 1)
			continue;
		voters++;
		up += s->m[i].reachable != 0;
	}
	if (!voters)
		return 0;
	ft = (long)up - (long)(voters / 2 + 1);
	return ft > 0 ? (int)ft : 0;
}

const char *cstat_check_name(int check)
{
	return check == CSTAT_CHECK_OK ? "ok" :
	       check == CSTAT_CHECK_SUSPECT ? "suspect" : "unknown";
}

int cstat_serving(const struct cstat *s)
{
	size_t i;
	int n = 0;

	for (i = 0; i < s->n; i++)
		n += s->m[i].serving != 0;
	return n;
}

static const char *sync_name(int sync)
{
	return sync == CSTAT_SYNC ? "synced" :
	       sync == CSTAT_UNSYNC ? "unsynced" : "unknown";
}

char *cstat_json(const struct cstat *s)
{
	struct strbuf b = STRBUF_INIT;
	size_t i;

	strbuf_addf(&b, "{\"cluster_id\":");
	json_string(&b, s->cluster_id);
	strbuf_addf(&b, ",\"term\":%" PRIu64 ",\"leader_id\":", s->term);
	if (s->leader_id)
		strbuf_addf(&b, "\"%" PRIu64 "\"", s->leader_id);
	else
		strbuf_addf(&b, "null");
	strbuf_addf(&b, ",\"fault_tolerance\":%d,\"view\":\"%s\","
		    "\"serving\":%d,\"min_serving\":", cstat_fault_tolerance(s),
		    s->local ? "local" : "leader", cstat_serving(s));
	if (s->min_serving > 0)
		strbuf_addf(&b, "%d", s->min_serving);
	else
		strbuf_addf(&b, "null");
	strbuf_addf(&b, ",\"members\":[");
	for (i = 0; i < s->n; i++) {
		const struct cstat_member *m = &s->m[i];

		strbuf_addf(&b, "%s{\"id\":\"%" PRIu64 "\",\"name\":",
			    i ? "," : "", m->id);
		json_string(&b, m->name);
		strbuf_addf(&b, ",\"role\":\"%s\",\"is_leader\":%s,"
			    "\"reachable\":%s,\"drained\":%s,\"provider\":",
			    cstat_role_name(m->role),
			    m->is_leader ? "true" : "false",
			    m->reachable ? "true" : "false",
			    m->drained ? "true" : "false");
		json_string(&b, m->provider);
		strbuf_addf(&b, ",\"region\":");
		json_string(&b, m->region);
		strbuf_addf(&b, ",\"address\":");
		json_string(&b, m->address);
		strbuf_addf(&b, ",\"last_contact_ms\":");
		if (m->last_contact_ms >= 0)
			strbuf_addf(&b, "%" PRId64, m->last_contact_ms);
		else
			strbuf_addf(&b, "null");
		strbuf_addf(&b, ",\"log_lag\":");
		if (m->log_lag >= 0)
			strbuf_addf(&b, "%" PRId64, m->log_lag);
		else
			strbuf_addf(&b, "null");
		strbuf_addf(&b, ",\"sync\":\"%s\",\"stratum\":",
			    sync_name(m->sync));
		if (m->stratum >= 0)
			strbuf_addf(&b, "%d", m->stratum);
		else
			strbuf_addf(&b, "null");
		strbuf_addf(&b, ",\"offset\":");
		if (isfinite(m->offset))
			strbuf_addf(&b, "%.9f", m->offset);
		else
			strbuf_addf(&b, "null");
		strbuf_addf(&b, ",\"mesh\":");
		if (m->mesh[0])
			json_string(&b, m->mesh);
		else
			strbuf_addf(&b, "null");
		strbuf_addf(&b, ",\"crosscheck\":{\"verdict\":\"%s\","
			    "\"offset_ms\":", cstat_check_name(m->check));
		if (isfinite(m->check_offset))
			strbuf_addf(&b, "%.3f", m->check_offset * 1e3);
		else
			strbuf_addf(&b, "null");
		strbuf_addf(&b, ",\"peers\":%d},\"serving\":%s}",
			    m->check_peers, m->serving ? "true" : "false");
	}
	strbuf_addf(&b, "]}\n");
	return strbuf_finish(&b, NULL);
}

/* Table cells never carry control characters: they would garble a terminal. */
static void clean(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < len; i++)
		dst[i] = (unsigned char)src[i] < 0x20 || src[i] == 0x7f ?
			 '?' : src[i];
	dst[i] = 0;
}

char *cstat_text(const struct cstat *s)
{
	struct strbuf b = STRBUF_INIT;
	char name[CSTAT_NAME_MAX], where[CSTAT_NAME_MAX + 20];
	char addr[CSTAT_ADDR_MAX], contact[24], lag[24], off[24], strat[16];
	char check[40];
	size_t i, k, nd;
	int any_mesh = 0;

	strbuf_addf(&b, "cluster %s  term %" PRIu64 "  leader ", s->cluster_id,
		    s->term);
	if (s->leader_id)
		strbuf_addf(&b, "%" PRIu64, s->leader_id);
	else
		strbuf_addf(&b, "none");
	strbuf_addf(&b, "  fault tolerance %d  serving %d",
		    cstat_fault_tolerance(s), cstat_serving(s));
	if (s->min_serving > 0)
		strbuf_addf(&b, " (min-serving %d)", s->min_serving);
	strbuf_addf(&b, "%s\n",
		    s->local == CSTAT_LOCAL_DRAINED ?
		    "  (local view: this member is drained, a spare hears no "
		    "raft traffic: ask another member)" :
		    s->local ? "  (local view: leader not reachable)" : "");
	strbuf_addf(&b, "%-20s %-16s %-7s %-3s %-16s %-21s %-9s %-7s %-8s %-7s "
		    "%-2s %-11s %s\n",
		    "ID", "NAME", "ROLE", "LDR", "PROVIDER/REGION", "ADDRESS",
		    "REACH", "CONTACT", "LAG", "SYNC", "ST", "OFFSET", "CHECK");
	for (i = 0; i < s->n; i++) {
		const struct cstat_member *m = &s->m[i];

		if (i == 0)
			for (k = 0; k < s->n; k++)
				any_mesh |= s->m[k].mesh[0] != 0;
		clean(name, sizeof(name), m->name);
		clean(addr, sizeof(addr), m->address);
		snprintf(where, sizeof(where), "%s/%s",
			 m->provider[0] ? m->provider : "-",
			 m->region[0] ? m->region : "-");
		clean(where, sizeof(where), where);
		if (m->last_contact_ms >= 0)
			snprintf(contact, sizeof(contact), "%" PRId64 "ms",
				 m->last_contact_ms);
		else
			snprintf(contact, sizeof(contact), "-");
		if (m->log_lag >= 0)
			snprintf(lag, sizeof(lag), "%" PRId64, m->log_lag);
		else
			snprintf(lag, sizeof(lag), "-");
		if (m->stratum >= 0)
			snprintf(strat, sizeof(strat), "%d", m->stratum);
		else
			snprintf(strat, sizeof(strat), "-");
		if (isfinite(m->offset))
			snprintf(off, sizeof(off), "%+.6fs", m->offset);
		else
			snprintf(off, sizeof(off), "-");
		/* the verdict, and how far from the others' median */
		if (isfinite(m->check_offset))
			snprintf(check, sizeof(check), "%s %+.3fms",
				 cstat_check_name(m->check),
				 m->check_offset * 1e3);
		else
			snprintf(check, sizeof(check), "%s",
				 cstat_check_name(m->check));
		strbuf_addf(&b, "%-20" PRIu64 " %-16s %-7s %-3s %-16s %-21s "
			    "%-9s %-7s %-8s %-7s %-2s %-11s %s",
			    m->id, name, cstat_role_name(m->role),
			    m->is_leader ? "*" : "", where, addr,
			    m->reachable ? "yes" : "no", contact, lag,
			    sync_name(m->sync), strat, off, check);
		/* WireGuard clusters only: the mesh each member applied */
		if (any_mesh)
			strbuf_addf(&b, "  mesh %s", m->mesh[0] ? m->mesh : "-");
		strbuf_addf(&b, "\n");
	}
	/* Under the table, so that its columns stay as they were. */
	for (i = 0, nd = 0; i < s->n; i++) {
		if (!s->m[i].drained)
			continue;
		clean(name, sizeof(name), s->m[i].name);
		strbuf_addf(&b, "%s%s (%" PRIu64 ")", nd++ ? ", " :
			    "drained (never promoted; ntpctl node undrain): ",
			    name, s->m[i].id);
	}
	if (nd)
		strbuf_addf(&b, "\n");
	return strbuf_finish(&b, NULL);
}
