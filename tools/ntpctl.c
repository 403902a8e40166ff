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

#include "node/ctl/backup.h"
#include "node/ctl/ctlframe.h"
#include "tools/bkfile.h"

#define NTPCTL_TIMEOUT_MS 10000
#define NTPCTL_MAX_WORDS 64

/*
 * Known commands: a command may be several words ("cluster status"); the
 * longest match wins. Adding a command is one row; the daemon registers the
 * same name with ctl_register().
 */
static const struct command {
	const char *name;
	int min_args, max_args;
	const char *args;
	const char *help;
} commands[] = {
	{ "serverstats", 0, 0, "", "NTP server counters and request rate" },
	{ "loglevel", 1, 1, "debug|info|warn|error",
	  "set the daemon's log level (root or the daemon's user)" },
	{ "sources", 0, 0, "", "upstream sources: state, reach, offset, delay, "
	  "jitter, and why a source is not used" },
	{ "tracking", 0, 0, "", "the time engine: reference, stratum, "
	  "correction, frequency, root delay/dispersion, sync state" },
	/* cluster (node/cluster/cluster_cmd.c, docs/cluster.md) */
	{ "cluster status", 0, 0, "", "members, roles, leader, reachability, "
	  "log lag and NTP state (asks the leader)" },
	{ "token create", 0, 4, "[--ttl DURATION] [--uses N]",
	  "a join token, alone on stdout" },
	{ "token list", 0, 0, "", "join tokens: id, uses left, expiry" },
	{ "token revoke", 1, 1, "ID", "revoke a join token" },
	{ "leader transfer", 0, 1, "[NODE]",
	  "move leadership (to NODE: a node-name or raft id)" },
	{ "node remove", 1, 1, "NODE", "remove a member from the cluster" },
	{ "node drain", 1, 1, "NODE", "move leadership and vote away from "
	  "NODE; it stays spare (never promoted) until undrained" },
	{ "node undrain", 1, 1, "NODE", "let the role policy promote NODE "
	  "again" },
	{ "config get", 0, 1, "[KEY]",
	  "replicated keys: value and where it comes from" },
	{ "config set", 2, 2, "KEY VALUE", "set a replicated key everywhere" },
	{ "audit", 0, 1, "[N]", "the last N events of the replicated audit "
	  "trail (default 20): config, members, tokens, cross-check "
	  "verdicts" },
	/* backup (node/cluster/cluster_backup.c, docs/operations.md) */
	{ "backup", 1, 2, "[--force] FILE", "write a backup of the "
	  "replicated state to FILE (0600; --force replaces it)" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: ntpctl [-s SOCKET] [-o text|json] COMMAND [ARGS]\n"
		   "  -s, --socket PATH   control socket (default $NTPCTL_SOCKET "
		   "or %s)\n"
		   "  -o, --output FMT    text (default) or json\n"
		   "  -h, --help          this text\n"
		   "commands:\n", CTL_DEFAULT_SOCKET);
	for (i = 0; i < N_COMMANDS; i++) {
		char head[64];

		snprintf(head, sizeof(head), "%s %s", commands[i].name,
			 commands[i].args);
		fprintf(f, "  %-32s %s\n", head, commands[i].help);
	}
}

/* How many words of argv name commands[i], or 0. */
static int match_words(const char *name, int argc, char **argv)
{
	int n = 0;

	while (*name) {
		size_t len = strcspn(name, " ");

		if (n == argc || strlen(argv[n]) != len ||
		    strncmp(argv[n], name, len) != 0)
			return 0;
		n++;
		name += len;
		name += *name == ' ';
	}
	return n;
}

static const struct command *find_command(int argc, char **argv, int *words)
{
	const struct command *best = NULL;
	size_t i;
	int n;

	*words = 0;
	for (i = 0; i < N_COMMANDS; i++) {
		n = match_words(commands[i].name, argc, argv);
		if (n > *words) {
			*words = n;
			best = &commands[i];
		}
	}
	return best;
}

static long remaining_ms(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Sends one request, returns the reply or NULL after printing why. */
static Ntpmc__CtlResponse *exchange(const char *path, const char *command,
				    int argc, char **argv)
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
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += NTPCTL_TIMEOUT_MS / 1000;
	while (off < len) {
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
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
				"within %d s\n", path, NTPCTL_TIMEOUT_MS / 1000);
			break;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "ntpctl: ntpnode at %s closed the "
				"connection without a reply\n", path);
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

static void print_body(const char *s)
{
	size_t n = strlen(s);

	fputs(s, stdout);
	if (n && s[n - 1] != '\n')
		putchar('\n');
}

/*
 * backup [--force] FILE: the daemon's reply carries the file base64 in
 * its JSON; it is checked (node/ctl/backup.h) before it is written, so FILE
 * is either a whole valid backup or not there.
 */
static int run_backup(const char *path, int argc, char **argv, int json)
{
	const char *file = NULL, *why = "";
	Ntpmc__CtlResponse *rsp;
	const void *state;
	struct bk_meta m;
	void *buf = NULL;
	size_t len = 0, slen;
	int i, force = 0, rc = 1;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--force") == 0)
			force = 1;
		else if (!file && argv[i][0] != '-')
			file = argv[i];
		else
			file = NULL, i = argc + 1;
	}
	if (!file || i > argc) {
		fprintf(stderr, "ntpctl: usage: ntpctl backup [--force] FILE\n");
		return 2;
	}
	if (!force && access(file, F_OK) == 0) {
		fprintf(stderr, "ntpctl: backup: %s exists: not overwritten "
			"(use --force)\n", file);
		return 1;
	}
	rsp = exchange(path, "backup", 0, NULL);
	if (!rsp)
		return 1;
	if (rsp->version != CTL_VERSION || rsp->status != 0) {
		fprintf(stderr, "ntpctl: backup: %s\n",
			rsp->version != CTL_VERSION ? "control protocol "
			"version mismatch" : rsp->error[0] ? rsp->error :
			"failed");
		goto out;
	}
	if (bkfile_extract(rsp->json, &buf, &len) < 0 ||
	    bk_decode(buf, len, &m, &state, &slen, &why) < 0) {
		fprintf(stderr, "ntpctl: backup: the daemon's reply does not "
			"hold a valid backup (%s): nothing written\n", why);
		goto out;
	}
	i = bkfile_write(file, buf, len, force);
	if (i < 0) {
		fprintf(stderr, "ntpctl: backup: writing %s: %s\n", file,
			i == -EEXIST ? "it exists (use --force)" :
			strerror(-i));
		goto out;
	}
	if (json) {
		/* the daemon's JSON without the file itself, plus its path */
		const char *cut = strstr(rsp->json, ",\"backup\":");

		printf("%.*s,\"file\":\"", (int)(cut ? cut - rsp->json :
					       (ptrdiff_t)strlen(rsp->json) - 1),
		       rsp->json);
		for (; *file; file++)
			if ((unsigned char)*file < 0x20)
				printf("\\u%04x", (unsigned char)*file);
			else
				printf("%s%c", *file == '"' || *file == '\\' ?
				       "\\" : "", *file);
		printf("\"}\n");
	} else {
		print_body(rsp->text);
		printf("written    %s\n", file);
	}
	rc = 0;
out:
	free(buf);
	ntpmc__ctl_response__free_unpacked(rsp, NULL);
	return rc;
}

int main(int argc, char **argv)
{
	const char *path = getenv("NTPCTL_SOCKET");
	const struct command *cmd;
	Ntpmc__CtlResponse *rsp;
	int json = 0, o, words, nargs, rc, i, npos = 0;
	char *pos[NTPCTL_MAX_WORDS];

	if (!path || !*path)
		path = CTL_DEFAULT_SOCKET;
	if (argc > NTPCTL_MAX_WORDS) {
		fprintf(stderr, "ntpctl: too many arguments\n");
		return 2;
	}
	/*
	 * Our options may come anywhere; every other word is the command and
	 * its arguments, passed on as they are, even when they start with
	 * '-' (token create --ttl 1h). getopt would take those for ours.
	 */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *val = NULL;

		if (strcmp(a, "--") == 0) {
			while (++i < argc)
				pos[npos++] = argv[i];
			break;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		}
		o = 0;
		if (strcmp(a, "-s") == 0 || strcmp(a, "--socket") == 0)
			o = 's';
		else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0)
			o = 'o';
		else if (strncmp(a, "--socket=", 9) == 0)
			o = 's', val = a + 9;
		else if (strncmp(a, "--output=", 9) == 0)
			o = 'o', val = a + 9;
		else if (strncmp(a, "-s", 2) == 0 && a[2])
			o = 's', val = a + 2;
		else if (strncmp(a, "-o", 2) == 0 && a[2])
			o = 'o', val = a + 2;
		if (!o) {
			pos[npos++] = argv[i];
			continue;
		}
		if (!val) {
			if (i + 1 == argc) {
				fprintf(stderr, "ntpctl: %s needs a value\n", a);
				usage(stderr);
				return 2;
			}
			val = argv[++i];
		}
		if (o == 's') {
			path = val;
		} else if (strcmp(val, "json") == 0) {
			json = 1;
		} else if (strcmp(val, "text") == 0) {
			json = 0;
		} else {
			fprintf(stderr, "ntpctl: -o takes text or json, not "
				"'%s'\n", val);
			usage(stderr);
			return 2;
		}
	}
	argc = npos;
	argv = pos;
	if (argc == 0) {
		fprintf(stderr, "ntpctl: no command given\n");
		usage(stderr);
		return 2;
	}
	cmd = find_command(argc, argv, &words);
	if (!cmd) {
		fprintf(stderr, "ntpctl: unknown command '%s'\n", argv[0]);
		usage(stderr);
		return 2;
	}
	nargs = argc - words;
	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		fprintf(stderr, "ntpctl: usage: ntpctl %s%s%s\n", cmd->name,
			cmd->args[0] ? " " : "", cmd->args);
		return 2;
	}
	if (strcmp(cmd->name, "backup") == 0)
		return run_backup(path, nargs, argv + words, json);
	rsp = exchange(path, cmd->name, nargs, argv + words);
	if (!rsp)
		return 1;
	rc = 0;
	if (rsp->version != CTL_VERSION) {
		fprintf(stderr, "ntpctl: ntpnode speaks control protocol "
			"version %u, this ntpctl %d\n", rsp->version,
			CTL_VERSION);
		rc = 1;
	} else if (rsp->status != 0) {
		fprintf(stderr, "ntpctl: %s: %s\n", cmd->name,
			rsp->error[0] ? rsp->error : "failed");
		rc = 1;
	} else {
		print_body(json ? rsp->json : rsp->text);
	}
	ntpmc__ctl_response__free_unpacked(rsp, NULL);
	return rc;
}
