/* cargs: ntpnode's command line (cargs.h). */
#include "node/daemon/cargs.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "node/cluster/ckey.h"

static void wipe_str(char *s)
{
	if (s)
		sodium_memzero(s, strlen(s));
}

/* Copies a token without surrounding blanks (a token file ends in '\n'). */
static int take_token(struct cargs *a, const char *src, size_t len,
		      const char *what, char *err, size_t errlen)
{
	while (len && (src[0] == ' ' || src[0] == '\t' || src[0] == '\n' ||
		       src[0] == '\r')) {
		src++;
		len--;
	}
	while (len && (src[len - 1] == ' ' || src[len - 1] == '\t' ||
		       src[len - 1] == '\n' || src[len - 1] == '\r'))
		len--;
	if (!len) {
		snprintf(err, errlen, "%s: the join token is empty", what);
		return -1;
	}
	if (len >= sizeof(a->token)) {
		snprintf(err, errlen, "%s: the join token is too long", what);
		return -1;
	}
	memcpy(a->token, src, len);
	a->token[len] = 0;
	return 0;
}

static int read_token_file(struct cargs *a, const char *path, char *err,
			   size_t errlen)
{
	char buf[CARGS_TOKEN_MAX + 64];
	ssize_t n;
	size_t len = 0;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "--token-file %s: %s", path,
			 strerror(errno));
		return -1;
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "--token-file %s: %s", path,
				 strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len == sizeof(buf)) {
		snprintf(err, errlen, "--token-file %s: the join token is too "
			 "long", path);
		goto out;
	}
	rc = take_token(a, buf, len, path, err, errlen);
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return rc;
}

enum {
	O_OVERLAY = 256,
	O_TOKEN,
	O_TOKEN_FILE,
	O_FROM,
	O_VOTERS,
	O_AT,
	O_CHECK,
	O_NO_RUN,
	O_END
};

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "overlay-subnet", required_argument, NULL, O_OVERLAY },
	{ "token", required_argument, NULL, O_TOKEN },
	{ "token-file", required_argument, NULL, O_TOKEN_FILE },
	{ "from", required_argument, NULL, O_FROM },
	{ "voters", required_argument, NULL, O_VOTERS },
	{ "at", required_argument, NULL, O_AT },
	{ "check", no_argument, NULL, O_CHECK },
	{ "dry-run", no_argument, NULL, O_CHECK },
	{ "no-run", no_argument, NULL, O_NO_RUN },
	{ NULL, 0, NULL, 0 },
};

/* The commands each option belongs to, as bits (-c, -h and -V: every
 * command). */
#define CMD(c) (1u << (c))
static const unsigned owner[O_END - O_OVERLAY] = {
	[O_OVERLAY - O_OVERLAY] = CMD(CARGS_INIT),
	[O_TOKEN - O_OVERLAY] = CMD(CARGS_JOIN),
	[O_TOKEN_FILE - O_OVERLAY] = CMD(CARGS_JOIN),
	[O_FROM - O_OVERLAY] = CMD(CARGS_RESTORE),
	[O_VOTERS - O_OVERLAY] = CMD(CARGS_RECOVER),
	[O_AT - O_OVERLAY] = CMD(CARGS_RECOVER),
	[O_CHECK - O_OVERLAY] = CMD(CARGS_RECOVER),
	[O_NO_RUN - O_OVERLAY] = CMD(CARGS_INIT) | CMD(CARGS_JOIN),
};

static const char *const cmd_names[] = {
	[CARGS_RUN] = "run",         [CARGS_CHECK] = "check",
	[CARGS_INIT] = "init",       [CARGS_JOIN] = "join",
	[CARGS_RESTORE] = "restore", [CARGS_RECOVER] = "recover",
};

/* The parse so far: the first error wins, the rest is still read (for -h,
 * -V and every token to wipe). */
struct parse {
	struct cargs *a;
	char *err;
	size_t errlen;
	int bad;
	const char *given[O_END - O_OVERLAY];  /* the word of each option */
	const char *token_arg, *token_file;
	int n_src;
};

__attribute__((format(printf, 2, 3)))
static void fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->bad++)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
}

/* A word that is not an option: the command, once. */
static void operand(struct parse *p, const char *w)
{
	size_t k;

	if (p->a->cmd != CARGS_NONE) {
		fail(p, "unexpected argument '%.64s'", w);
		return;
	}
	for (k = 1; k < sizeof(cmd_names) / sizeof(cmd_names[0]); k++)
		if (strcmp(w, cmd_names[k]) == 0) {
			p->a->cmd = (enum cargs_cmd)k;
			return;
		}
	fail(p, "unknown command '%.64s'", w);
}

static void option(struct parse *p, int o, int li, char *arg, char *word)
{
	struct cargs *a = p->a;
	char e[160];

	if (o >= O_OVERLAY && o < O_END && !p->given[o - O_OVERLAY])
		p->given[o - O_OVERLAY] = longopts[li].name;
	switch (o) {
	case 'c':
		/* "-c=FILE" has always meant FILE here (getopt keeps the
		 * '=' of an attached short option's value). */
		if (arg[0] == '=' && arg == word + 2)
			arg++;
		if (strlen(arg) >= sizeof(a->conf))
			fail(p, "-c: path too long");
		else
			strcpy(a->conf, arg);
		break;
	case 'h':
	case 'V':
		if (!a->help && !a->version)
			*(o == 'h' ? &a->help : &a->version) = 1;
		break;
	case O_OVERLAY:
		/* the replicated key's own rule (node/cluster/ckey.c) */
		if (ckey_check(CKEY_OVERLAY_SUBNET, arg, a->overlay_subnet,
			       sizeof(a->overlay_subnet), e, sizeof(e)) < 0)
			fail(p, "--overlay-subnet: '%.40s' is not an IPv4 "
			     "subnet A.B.C.D/N with N in 16..30 and the host "
			     "bits zero (like 192.168.10.0/24)", arg);
		break;
	case O_TOKEN:
		if (!p->n_src++)
			p->token_arg = arg;
		break;
	case O_TOKEN_FILE:
		if (!p->n_src++)
			p->token_file = arg;
		break;
	case O_FROM:
		a->from = arg;
		break;
	case O_VOTERS:
		a->voters = arg;
		break;
	case O_AT:
		a->at = arg;
		break;
	case O_CHECK:
		a->check = 1;
		break;
	case O_NO_RUN:
		a->no_run = 1;
		break;
	}
}

/* What the command needs, once the whole line is read. */
static void check_cmd(struct parse *p)
{
	struct cargs *a = p->a;
	const char *name = cmd_names[a->cmd], *env;
	size_t k;

	for (k = 0; k < O_END - O_OVERLAY; k++)
		if (p->given[k] && !(owner[k] & CMD(a->cmd))) {
			fail(p, "--%s is not an option of %s", p->given[k],
			     name);
			return;
		}
	if (!a->conf[0]) {
		fail(p, "%s needs -c FILE", name);
		return;
	}
	if (a->cmd == CARGS_RESTORE && !a->from)
		fail(p, "restore needs --from BACKUP");
	if (a->cmd == CARGS_RECOVER && !a->voters && !a->check)
		fail(p, "recover needs --check or --voters ID|NAME[,...]");
	if (a->cmd != CARGS_JOIN)
		return;
	env = getenv("NTPNODE_TOKEN");
	if (env && *env && !p->n_src) {
		if (take_token(a, env, strlen(env), "NTPNODE_TOKEN", p->err,
			       p->errlen) < 0)
			p->bad++;
		return;
	}
	if (p->n_src != 1) {
		fail(p, p->n_src ? "give the join token once (--token, "
		     "--token-file or NTPNODE_TOKEN)" : "a join token is "
		     "required: --token TOKEN, --token-file PATH or env "
		     "NTPNODE_TOKEN");
		return;
	}
	if ((p->token_arg ? take_token(a, p->token_arg, strlen(p->token_arg),
				       "--token", p->err, p->errlen) :
	     read_token_file(a, p->token_file, p->err, p->errlen)) < 0)
		p->bad++;
}

/*
 * Every value that may be a token: of --token and of what getopt would
 * have refused as an ambiguous abbreviation of it (--tok=...), whatever
 * else went wrong on the line.
 */
static void wipe_tokens(int argc, char **argv)
{
	size_t n;
	int i;

	for (i = 1; i < argc; i++) {
		n = strcspn(argv[i], "=");
		if (n < 3 || n > 7 || strncmp(argv[i], "--token", n) != 0)
			continue;
		if (argv[i][n] == '=')
			wipe_str(argv[i] + n + 1);
		else if (i + 1 < argc)
			wipe_str(argv[i + 1]);
	}
}

int cargs_parse(struct cargs *a, int argc, char **argv, char *err,
		size_t errlen)
{
	struct parse p = { .a = a, .err = err, .errlen = errlen };
	char *env;
	int o, li;

	memset(a, 0, sizeof(*a));
	err[0] = '\0';
	/* '-': operands come back in order as option 1, so the command
	 * word may come anywhere without argv being permuted (and without
	 * POSIXLY_CORRECT changing that); ':': a missing value is ':'. */
	optind = 0;
	opterr = 0;
	for (;;) {
		li = -1;
		o = getopt_long(argc, argv, "-:c:hV", longopts, &li);
		if (o == -1)
			break;
		if (o == 1) {
			operand(&p, optarg);
		} else if (o == ':') {
			fail(&p, "%s needs a value", argv[optind - 1]);
		} else if (o == '?') {
			if (optopt)
				fail(&p, "unknown option '-%c'", optopt);
			else
				fail(&p, "unknown option '%.64s'",
				     argv[optind - 1]);
		} else {
			if (li < 0)     /* a short option: its long name */
				for (li = 0; longopts[li].val != o; li++)
					;
			option(&p, o, li, optarg, argv[optind - 1]);
		}
	}
	for (; optind < argc; optind++)     /* after -- */
		operand(&p, argv[optind]);
	if (a->help || a->version) {
		p.bad = 0;
		goto out;
	}
	if (!p.bad && a->cmd == CARGS_NONE)
		fail(&p, "no command given");
	if (!p.bad)
		check_cmd(&p);
out:
	/* Whatever happened, no copy of a token stays readable by others. */
	wipe_tokens(argc, argv);
	env = getenv("NTPNODE_TOKEN");
	if (env) {
		wipe_str(env);
		unsetenv("NTPNODE_TOKEN");
	}
	if (p.bad)
		cargs_wipe(a);
	return p.bad ? -1 : 0;
}

void cargs_wipe(struct cargs *a)
{
	sodium_memzero(a->token, sizeof(a->token));
}
