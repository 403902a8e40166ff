/*
 * ntpctl: the operator's command-line client of ntpnode. It sends one
 * request over the control socket and prints the reply: text by default,
 * the daemon's JSON with -o json. Exit: 0 ok, 1 error (daemon unreachable
 * or an error reply), 2 usage.
 */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "node/base/version.h"
#include "node/ctl/backup.h"
#include "node/ctl/ctlcmd.h"
#include "node/ctl/ctlframe.h"
#include "tools/bkfile.h"
#include "tools/ntpctl.h"
#include "tools/ntpctl_args.h"


/* "[mutating, leader]" from a command's flags, "" for neither. */
static const char *tags(const struct ctlcmd *c)
{
	switch (c->flags & (CTLCMD_MUTATING | CTLCMD_LEADER)) {
	case CTLCMD_MUTATING:
		return " [mutating]";
	case CTLCMD_LEADER:
		return " [leader]";
	case CTLCMD_MUTATING | CTLCMD_LEADER:
		return " [mutating, leader]";
	}
	return "";
}

/* text from column col on, wrapped before column 80. */
static void wrap(FILE *f, int col, const char *text)
{
	int at = col;

	while (*text) {
		int len = (int)strcspn(text, " ");

		if (at > col && at + 1 + len > 79) {
			fprintf(f, "\n%*s", col, "");
			at = col;
		} else if (at > col) {
			fputc(' ', f);
			at++;
		}
		fprintf(f, "%.*s", len, text);
		at += len;
		text += len;
		text += strspn(text, " ");
	}
	fputc('\n', f);
}

static void usage_line(FILE *f)
{
	fprintf(f, "usage: ntpctl [-s SOCKET] [-o text|json] COMMAND "
		   "[OPTIONS] [ARGS]\n");
}

static void usage(FILE *f)
{
	char head[128], help[256];
	size_t i;

	usage_line(f);
	fprintf(f, "  -s, --socket PATH   control socket (default "
		   "$NTPCTL_SOCKET or\n"
		   "                      %s)\n"
		   "  -o, --output FMT    text (default) or json\n"
		   "  -h, --help          this text; after a command, that "
		   "command's\n"
		   "  -V, --version       print the version\n"
		   "These may come anywhere, before or after the command; "
		   "-- ends them.\n"
		   "Commands ([mutating]: root or the daemon's user only; "
		   "[leader]: answered\nby the cluster's leader):\n",
		CTL_DEFAULT_SOCKET);
	for (i = 0; i < ctlcmd_count(); i++) {
		const struct ctlcmd *c = ctlcmd_at(i);

		ctlcmd_usage(c, head, sizeof(head));
		snprintf(help, sizeof(help), "%s%s", c->help, tags(c));
		if (strlen(head) > 32)
			fprintf(f, "  %s\n%35s", head, "");
		else
			fprintf(f, "  %-32s ", head);
		wrap(f, 35, help);
	}
}

/* ntpctl COMMAND --help */
static void usage_cmd(FILE *f, const struct ctlcmd *c)
{
	char head[128];
	int k;

	ctlcmd_usage(c, head, sizeof(head));
	fprintf(f, "usage: ntpctl %s\n", head);
	wrap(f, 0, c->help);
	for (k = 0; k < CTLCMD_MAX_OPTS && c->opts[k].name; k++) {
		snprintf(head, sizeof(head), "%s%s%s", c->opts[k].name,
			 c->opts[k].value ? " " : "",
			 c->opts[k].value ? c->opts[k].value : "");
		fprintf(f, "  %-18s ", head);
		wrap(f, 21, c->opts[k].help);
	}
	if (c->flags & CTLCMD_MUTATING)
		fprintf(f, "It changes the daemon: root or the daemon's user "
			   "only.\n");
	if (c->flags & CTLCMD_LEADER)
		fprintf(f, "The cluster's leader answers it (a follower "
			   "forwards it).\n");
}

static long remaining_ms(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

Ntpmc__CtlResponse *ntpctl_exchange(const char *path, const char *command,
				    int argc, char **argv, long timeout_ms,
				    int *closed)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	Ntpmc__CtlResponse *rsp = NULL;
	struct ctlframe_rd rd;
	struct timespec deadline;
	uint8_t *req, buf[65536];
	size_t len, off = 0, used;
	int fd, r = CTLFRAME_MORE;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "ntpctl: socket path too long: %s\n", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	req = ctlframe_pack_request(command, argc, argv, &len);
	if (!req) {
		fprintf(stderr, "ntpctl: request too large\n");
		return NULL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("ntpctl: socket");
		free(req);
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			fprintf(stderr, "ntpctl: cannot reach ntpnode at %s: "
				"is it running?\n", path);
		else
			fprintf(stderr, "ntpctl: cannot reach ntpnode at %s: "
				"%s\n", path, strerror(errno));
		goto out;
	}
	if (closed)
		*closed = 0;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	while (off < len) {
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		/* A daemon that refuses the connection (too many of them)
		 * answers and closes before reading: its reply says why. */
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			break;
		if (n < 0) {
			fprintf(stderr, "ntpctl: send to %s: %s\n", path,
				strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	ctlframe_rd_init(&rd, CTL_MAX_RESPONSE);
	while (r == CTLFRAME_MORE) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long ms = remaining_ms(&deadline);
		ssize_t n;

		if (ms <= 0 || poll(&pfd, 1, (int)ms) == 0) {
			fprintf(stderr, "ntpctl: no reply from ntpnode at %s "
				"within %ld s\n", path, timeout_ms / 1000);
			break;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (closed)
				*closed = 1;
			else
				fprintf(stderr, "ntpctl: ntpnode at %s closed "
					"the connection without a reply\n",
					path);
			break;
		}
		/* One reply is expected; bytes after it are ignored. */
		r = ctlframe_rd_feed(&rd, buf, (size_t)n, &used);
	}
	if (r == CTLFRAME_TOOBIG)
		fprintf(stderr, "ntpctl: reply larger than %d bytes\n",
			CTL_MAX_RESPONSE);
	if (r == CTLFRAME_NOMEM)
		fprintf(stderr, "ntpctl: out of memory\n");
	if (r == CTLFRAME_DONE) {
		rsp = ctlframe_unpack_response(rd.body, rd.len);
		if (!rsp)
			fprintf(stderr, "ntpctl: malformed reply\n");
	}
	ctlframe_rd_free(&rd);
out:
	close(fd);
	free(req);
	return rsp;
}

int ntpctl_reply_ok(const Ntpmc__CtlResponse *rsp, const char *command)
{
	if (rsp->version != CTL_VERSION) {
		fprintf(stderr, "ntpctl: ntpnode speaks control protocol "
			"version %u, this ntpctl %d: use the ntpctl of "
			"ntpnode's release\n", rsp->version, CTL_VERSION);
		return 0;
	}
	if (rsp->status != 0) {
		fprintf(stderr, "ntpctl: %s: %s\n", command,
			rsp->error[0] ? rsp->error : "failed");
		return 0;
	}
	return 1;
}

void ntpctl_print_body(const char *s)
{
	size_t n = strlen(s);

	fputs(s, stdout);
	if (n && s[n - 1] != '\n')
		putchar('\n');
}

/*
 * backup [--force] [--local] FILE: the daemon's reply carries the file in
 * its binary body; it is checked (node/ctl/backup.h) before it is written,
 * so FILE is either a whole valid backup or not there.
 */
int ntpctl_backup(const char *path, const char *file, int force, int local,
		  int json)
{
	const char *why = "";
	char *words[1] = { (char *)"--local" };
	int i, rc = 1;
	Ntpmc__CtlResponse *rsp;
	const void *state;
	const char *end;
	struct bk_meta m;
	size_t slen;

	if (!force && access(file, F_OK) == 0) {
		fprintf(stderr, "ntpctl: backup: %s exists: not overwritten "
			"(use --force)\n", file);
		return 1;
	}
	rsp = ntpctl_exchange(path, "backup", local ? 1 : 0, words,
			      NTPCTL_TIMEOUT_MS, NULL);
	if (!rsp)
		return 1;
	if (!ntpctl_reply_ok(rsp, "backup"))
		goto out;
	end = strrchr(rsp->json, '}');
	if (!end || bk_decode(rsp->data.data, rsp->data.len, &m, &state,
			      &slen, &why) < 0) {
		fprintf(stderr, "ntpctl: backup: the daemon's reply does not "
			"hold a valid backup (%s): nothing written\n", why);
		goto out;
	}
	i = bkfile_write(file, rsp->data.data, rsp->data.len, force);
	if (i < 0) {
		fprintf(stderr, "ntpctl: backup: writing %s: %s\n", file,
			i == -EEXIST ? "it exists (use --force)" :
			strerror(-i));
		goto out;
	}
	if (json) {
		/* the daemon's JSON object, plus the file's path */
		const char *last = end;

		while (last > rsp->json && (last[-1] == ' ' ||
					    last[-1] == '\n'))
			last--;
		printf("%.*s%s\"file\":\"", (int)(end - rsp->json), rsp->json,
		       last > rsp->json && last[-1] == '{' ? "" : ",");
		for (; *file; file++)
			if ((unsigned char)*file < 0x20)
				printf("\\u%04x", (unsigned char)*file);
			else
				printf("%s%c", *file == '"' || *file == '\\' ?
				       "\\" : "", *file);
		printf("\"}\n");
	} else {
		ntpctl_print_body(rsp->text);
		printf("written    %s\n", file);
	}
	rc = 0;
out:
	ntpmc__ctl_response__free_unpacked(rsp, NULL);
	return rc;
}

int main(int argc, char **argv)
{
	const char *path = getenv("NTPCTL_SOCKET");
	char *words[CTL_MAX_ARGS + 2 * CTLCMD_MAX_OPTS + 1];
	char err[256], head[128];
	struct ntpctl_args a;
	Ntpmc__CtlResponse *rsp;
	int n, rc;

	rc = ntpctl_args_parse(&a, argc, argv, err, sizeof(err));
	if (a.version) {
		printf("ntpctl %s\n", NTPMC_VERSION);
		return 0;
	}
	if (a.help) {
		if (a.cmd)
			usage_cmd(stdout, a.cmd);
		else
			usage(stdout);
		return 0;
	}
	if (rc == NTPCTL_ARGS_ECMD) {
		ctlcmd_usage(a.cmd, head, sizeof(head));
		fprintf(stderr, "ntpctl: %s\nusage: ntpctl %s\n", err, head);
		return 2;
	}
	if (rc != NTPCTL_ARGS_OK) {
		fprintf(stderr, "ntpctl: %s\n", err);
		usage_line(stderr);
		fprintf(stderr, "(ntpctl --help lists the commands)\n");
		return 2;
	}
	if (a.socket)
		path = a.socket;
	if (!path || !*path)
		path = CTL_DEFAULT_SOCKET;
	if (strcmp(a.cmd->name, "backup") == 0)
		return ntpctl_backup(path, a.args.argv[0],
				     ctlcmd_get(a.cmd, &a.args, "--force") !=
				     NULL, ctlcmd_get(a.cmd, &a.args,
						      "--local") != NULL,
				     a.json);
	if (strcmp(a.cmd->name, "emergency-shutdown") == 0)
		return ntpctl_emergency(path, &a);
	n = ctlcmd_words(a.cmd, &a.args, 1, words,
			 (int)(sizeof(words) / sizeof(words[0])));
	if (n < 0) {
		fprintf(stderr, "ntpctl: too many arguments\n");
		return 2;
	}
	rsp = ntpctl_exchange(path, a.cmd->name, n, words, NTPCTL_TIMEOUT_MS,
			      NULL);
	if (!rsp)
		return 1;
	rc = 1;
	if (ntpctl_reply_ok(rsp, a.cmd->name)) {
		ntpctl_print_body(a.json ? rsp->json : rsp->text);
		rc = 0;
	}
	ntpmc__ctl_response__free_unpacked(rsp, NULL);
	return rc;
}
