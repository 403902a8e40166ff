/*
 * ntpctl emergency-shutdown [--destroy] [--dry-run] [--backup FILE]
 * [--confirm PHRASE] (docs/cost.md): the steps, one request each, each
 * printed as it goes:
 *
 *   1. `emergency-shutdown plan`: the members in the order to act on
 *      them (those only the leader can reach, the others, the leader,
 *      this member last), from this member's applied membership;
 *   2. the phrase I UNDERSTAND (typed on stdin, or --confirm), exactly;
 *      nothing has changed before it;
 *   3. a backup to FILE (default ./ntpmc-backup-YYYYMMDDTHHMMSSZ); when
 *      no leader answers, this member's own state (backup --local); one
 *      that cannot be written stops here, nothing changed;
 *   4. `rotation freeze`: the leader commits the freeze, so the rotation
 *      starts no VM again; without quorum it cannot, and that is said;
 *   5. per member, this one last: `emergency-shutdown stop NAME` (with
 *      --destroy: release its addresses, then terminate it: the hooks
 *      find the addresses through the instance), answered once the hook
 *      ended. This member's own step takes ntpnode down with the VM: the
 *      connection then closes, and the step counts as done once ntpnode
 *      here is gone.
 *
 * Exit 0 only when every hook reported done and the freeze was committed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "node/ctl/ctlcmd.h"
#include "tools/ntpctl.h"

#define ES_PHRASE "I UNDERSTAND"
#define ES_MEMBERS_MAX 64
#define ES_MARGIN_MS 15000      /* past the hook's timeout */
#define ES_WHY_MAX 400

struct es_member {
	char name[65], provider[17], instance[65], runner[8];
	int self;
};

struct es_plan {
	char self[65], leader[65];
	int frozen;
	long timeout_ms;
	struct es_member m[ES_MEMBERS_MAX];
	int n;
};

/* Copies a tab-separated field; 0, or -1 when it does not fit. */
static int field(char **line, char *dst, size_t cap)
{
	size_t n = strcspn(*line, "\t");

	if (n == 0 || n >= cap)
		return -1;
	memcpy(dst, *line, n);
	dst[n] = 0;
	*line += n + ((*line)[n] == '\t');
	return 0;
}

/* The plan's text (rstop.c reply_plan). 0, or -1. */
static int parse_plan(const char *text, struct es_plan *p)
{
	char *copy = strdup(text), *save = NULL, *line;
	char key[16], val[65];
	int rc = 0;

	if (!copy)
		return -1;
	memset(p, 0, sizeof(*p));
	for (line = strtok_r(copy, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		struct es_member *m = &p->m[p->n];
		char self[8];

		if (field(&line, key, sizeof(key)) < 0) {
			rc = -1;
		} else if (strcmp(key, "member") == 0) {
			if (p->n == ES_MEMBERS_MAX ||
			    field(&line, m->name, sizeof(m->name)) < 0 ||
			    field(&line, m->provider, sizeof(m->provider)) < 0 ||
			    field(&line, m->instance, sizeof(m->instance)) < 0 ||
			    field(&line, m->runner, sizeof(m->runner)) < 0 ||
			    field(&line, self, sizeof(self)) < 0)
				rc = -1;
			m->self = strcmp(self, "self") == 0;
			p->n++;
		} else if (field(&line, val, sizeof(val)) < 0) {
			rc = -1;
		} else if (strcmp(key, "self") == 0) {
			snprintf(p->self, sizeof(p->self), "%s", val);
		} else if (strcmp(key, "leader") == 0) {
			snprintf(p->leader, sizeof(p->leader), "%s", val);
		} else if (strcmp(key, "frozen") == 0) {
			p->frozen = atoi(val);
		} else if (strcmp(key, "timeout") == 0) {
			p->timeout_ms = atol(val);
		}
	}
	free(copy);
	if (p->timeout_ms <= 0 || !p->self[0])
		rc = -1;
	return rc;
}

static int get_plan(const char *path, struct es_plan *p)
{
	char *words[1] = { (char *)"plan" };
	Ntpmc__CtlResponse *rsp;
	int rc = -1;

	rsp = ntpctl_exchange(path, "emergency-shutdown", 1, words,
			      NTPCTL_TIMEOUT_MS, NULL);
	if (!rsp)
		return -1;
	if (ntpctl_reply_ok(rsp, "emergency-shutdown")) {
		rc = parse_plan(rsp->text, p);
		if (rc < 0)
			fprintf(stderr, "ntpctl: emergency-shutdown: the "
				"daemon's plan is not understood\n");
	}
	ntpmc__ctl_response__free_unpacked(rsp, NULL);
	return rc;
}

/* The phrase from --confirm or one line of stdin: 1 when it is exactly
 * I UNDERSTAND. */
static int phrase_ok(const char *confirm)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ok;

	if (confirm)
		return strcmp(confirm, ES_PHRASE) == 0;
	fprintf(stderr, "Type %s to stop every member's VM: ", ES_PHRASE);
	fflush(stderr);
	n = getline(&line, &cap, stdin);
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = 0;
	ok = n > 0 && strcmp(line, ES_PHRASE) == 0;
	free(line);
	return ok;
}

/* Whether ntpnode answers at path at all (connect succeeds). */
static int daemon_there(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, rc;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	return rc == 0;
}

/* Waits up to ms for ntpnode here to go away: 1 when it did. */
static int wait_gone(const char *path, long ms)
{
	struct timespec d = { 0, 200 * 1000000L };

	for (; ms > 0; ms -= 200) {
		if (!daemon_there(path))
			return 1;
		nanosleep(&d, NULL);
	}
	return !daemon_there(path);
}

static const char *done_word(const char *action)
{
	if (strcmp(action, "stop") == 0)
		return "stopped";
	if (strcmp(action, "terminate") == 0)
		return "terminated";
	return "released";
}

/* One member's action: 0 done, or -1 with why. */
static int act(const char *path, const struct es_plan *p,
	       const struct es_member *m, const char *action, char *why,
	       size_t len)
{
	char *words[2] = { (char *)action, (char *)m->name };
	Ntpmc__CtlResponse *rsp;
	int closed = 0, rc = -1;

	rsp = ntpctl_exchange(path, "emergency-shutdown", 2, words,
			      p->timeout_ms + ES_MARGIN_MS, &closed);
	if (rsp) {
		if (rsp->version != CTL_VERSION)
			snprintf(why, len, "control protocol version %u",
				 rsp->version);
		else if (rsp->status != 0)
			snprintf(why, len, "%s", rsp->error[0] ? rsp->error :
				 "failed");
		else
			rc = 0;
		ntpmc__ctl_response__free_unpacked(rsp, NULL);
		return rc;
	}
	/* this member's own VM takes ntpnode down before it answers */
	if (m->self && closed && strcmp(action, "release") != 0 &&
	    wait_gone(path, p->timeout_ms)) {
		snprintf(why, len, "ntpnode here ended with its VM");
		return 1;
	}
	snprintf(why, len, "no answer from ntpnode here");
	return -1;
}

static void print_steps(const struct es_plan *p, const char *file,
			int destroy)
{
	int i;

	printf("steps:\n  backup to %s\n", file);
	if (p->leader[0] != '-')
		printf("  freeze the rotation (the leader %s commits it)%s\n",
		       p->leader, p->frozen ? ": already frozen" : "");
	else
		printf("  freeze the rotation: NO LEADER KNOWN, it cannot be "
		       "committed now\n");
	for (i = 0; i < p->n; i++) {
		const struct es_member *m = &p->m[i];
		const char *how = strcmp(m->runner, "here") == 0 ?
				  "hook here" : strcmp(m->runner, "leader") ==
				  0 ? "through the leader" : "NO HOOK REACHABLE";

		printf("  %s %s %s (%s%s)\n", m->name, m->provider,
		       destroy ? "release, terminate" : "stop", how,
		       m->self ? "; this member, last" : "");
	}
}

static int run(const char *path, const struct es_plan *p, const char *file,
	       int destroy)
{
	static const char *const stop[] = { "stop" };
	static const char *const destroy_steps[] = { "release", "terminate" };
	const char *const *steps = destroy ? destroy_steps : stop;
	char *freeze_words[2] = { (char *)"ntpctl", (char *)"emergency-shutdown" };
	char why[ES_WHY_MAX], failed[4096] = "";
	Ntpmc__CtlResponse *rsp;
	int i, k, nsteps = destroy ? 2 : 1, frozen = 0, bad = 0, r;
	size_t off = 0;

	/* 3. the backup: the leader's, else this member's own */
	if (ntpctl_backup(path, file, 0, 0, 0) != 0) {
		fprintf(stderr, "ntpctl: emergency-shutdown: no backup through "
			"the leader: trying this member's own state\n");
		if (ntpctl_backup(path, file, 0, 1, 0) != 0) {
			fprintf(stderr, "ntpctl: emergency-shutdown: refused, "
				"nothing changed: the backup could not be "
				"written to %s\n", file);
			return 1;
		}
		printf("backup     this member's own applied state (no "
		       "leader answered: it may miss the latest commits)\n");
	}
	/* 4. the freeze */
	rsp = ntpctl_exchange(path, "rotation freeze", 2, freeze_words,
			      NTPCTL_TIMEOUT_MS, NULL);
	if (rsp && ntpctl_reply_ok(rsp, "rotation freeze")) {
		frozen = 1;
		printf("freeze     committed: the rotation starts no VM until "
		       "ntpctl rotation resume\n");
	} else {
		printf("freeze     NOT COMMITTED (%s): the rotation may start "
		       "VMs again once quorum returns; then run ntpctl "
		       "rotation freeze\n", rsp && rsp->error[0] ? rsp->error :
		       "no leader answered");
	}
	if (rsp)
		ntpmc__ctl_response__free_unpacked(rsp, NULL);
	fflush(stdout);
	/* 5. the members, this one last */
	for (i = 0; i < p->n; i++) {
		const struct es_member *m = &p->m[i];

		for (k = 0; k < nsteps; k++) {
			printf("%-16s %-8s %-9s ", m->name, m->provider,
			       steps[k]);
			fflush(stdout);
			r = act(path, p, m, steps[k], why, sizeof(why));
			if (r < 0) {
				printf("FAILED: %s\n", why);
				bad++;
				if (off < sizeof(failed))
					off += (size_t)snprintf(failed + off,
						sizeof(failed) - off,
						"%s%s %s (%s)", off ? "; " :
						"", m->name, steps[k], why);
				break;  /* no terminate after a failed
					 * release */
			}
			printf("%s%s%s%s\n", done_word(steps[k]),
			       r > 0 ? " (" : "", r > 0 ? why : "",
			       r > 0 ? ")" : "");
			fflush(stdout);
		}
	}
	if (bad)
		fprintf(stderr, "ntpctl: emergency-shutdown: NOT DONE: %d of "
			"%d members failed: %s\n", bad, p->n, failed);
	if (!frozen)
		fprintf(stderr, "ntpctl: emergency-shutdown: the freeze could "
			"NOT be committed (no quorum): the rotation may start "
			"VMs again once quorum returns\n");
	if (!bad && frozen)
		printf("done: every member's VM %s\n",
		       destroy ? "terminated" : "stopped");
	return bad || !frozen ? 1 : 0;
}

int ntpctl_emergency(const char *path, const struct ntpctl_args *a)
{
	const struct ctlcmd *c = a->cmd;
	int destroy = ctlcmd_get(c, &a->args, "--destroy") != NULL;
	int dry = ctlcmd_get(c, &a->args, "--dry-run") != NULL;
	const char *file = ctlcmd_get(c, &a->args, "--backup");
	const char *confirm = ctlcmd_get(c, &a->args, "--confirm");
	char def[64];
	struct es_plan *p;
	time_t now = time(NULL);
	struct tm tm;
	int rc = 1;

	if (a->json) {
		fprintf(stderr, "ntpctl: emergency-shutdown prints text only "
			"(no -o json)\n");
		return 2;
	}
	if (file && !file[0]) {
		fprintf(stderr, "ntpctl: emergency-shutdown: --backup needs a "
			"file name\n");
		return 2;
	}
	if (!file) {
		gmtime_r(&now, &tm);
		strftime(def, sizeof(def), "ntpmc-backup-%Y%m%dT%H%M%SZ", &tm);
		file = def;
	}
	/* a phrase given with --dry-run is judged all the same */
	if (confirm && strcmp(confirm, ES_PHRASE) != 0) {
		fprintf(stderr, "ntpctl: emergency-shutdown: refused, nothing "
			"changed: the phrase must be exactly '%s'\n",
			ES_PHRASE);
		return 1;
	}
	if (!dry && access(file, F_OK) == 0) {
		fprintf(stderr, "ntpctl: emergency-shutdown: refused, nothing "
			"changed: %s exists (a backup never replaces a "
			"file)\n", file);
		return 1;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(stderr, "ntpctl: out of memory\n");
		return 1;
	}
	if (get_plan(path, p) < 0)
		goto out;
	if (p->self[0] == '-' || !p->n) {
		fprintf(stderr, "ntpctl: emergency-shutdown: refused, nothing "
			"changed: this member's applied state does not list it "
			"(restarted and not caught up with a leader yet?): run "
			"it on another member, or again in a moment\n");
		goto out;
	}
	printf("emergency %s of %d member%s (this member %s last)%s\n",
	       destroy ? "destroy" : "shutdown", p->n, p->n == 1 ? "" : "s",
	       p->self, dry ? ": DRY RUN, nothing is changed, no hook is "
	       "called" : "");
	print_steps(p, file, destroy);
	fflush(stdout);
	if (dry) {
		rc = 0;
		goto out;
	}
	if (!phrase_ok(confirm)) {
		fprintf(stderr, "ntpctl: emergency-shutdown: refused, nothing "
			"changed: the phrase must be exactly '%s'\n",
			ES_PHRASE);
		goto out;
	}
	rc = run(path, p, file, destroy);
out:
	free(p);
	return rc;
}
