#include "node/daemon/cargs.h"

#include <errno.h>
#include <fcntl.h>
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

/* "--name value" or "--name=value"; returns the value or NULL. */
static char *opt_value(int argc, char **argv, int *i, const char *name,
		       int *matched)
{
	size_t n = strlen(name);

	*matched = 0;
	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=') {
		*matched = 1;
		return argv[*i] + n + 1;
	}
	if (argv[*i][n] != 0)
		return NULL;
	*matched = 1;
	if (*i + 1 >= argc)
		return NULL;
	(*i)++;
	return argv[*i];
}

int cargs_parse(struct cargs *a, int argc, char **argv, char *err,
		size_t errlen)
{
	const char *token_file = NULL;
	char *token_arg = NULL, *env, *v;
	int i, m, n_src = 0, rc = -1;

	memset(a, 0, sizeof(*a));
	if (argc < 1 || (strcmp(argv[0], "init") && strcmp(argv[0], "join"))) {
		snprintf(err, errlen, "expected init or join");
		return -1;
	}
	a->cmd = strcmp(argv[0], "init") == 0 ? CARGS_INIT : CARGS_JOIN;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-run") == 0) {
			a->no_run = 1;
		} else if ((v = opt_value(argc, argv, &i, "-c", &m)) || m ||
			   (v = opt_value(argc, argv, &i, "--config", &m)) ||
			   m) {
			if (!v)
				goto missing;
			if (strlen(v) >= sizeof(a->conf)) {
				snprintf(err, errlen, "-c: path too long");
				goto out;
			}
			strcpy(a->conf, v);
		} else if (a->cmd == CARGS_INIT &&
			   ((v = opt_value(argc, argv, &i, "--overlay-subnet",
					   &m)) || m)) {
			char e[160];

			if (!v)
				goto missing;
			/* the replicated key's own rule (node/cluster/ckey.c) */
			if (ckey_check(CKEY_OVERLAY_SUBNET, v, a->overlay_subnet,
				       sizeof(a->overlay_subnet), e,
				       sizeof(e)) < 0) {
				snprintf(err, errlen, "--overlay-subnet: '%.40s' "
					 "is not an IPv4 subnet A.B.C.D/N with N "
					 "in 16..30 and the host bits zero "
					 "(like 192.168.10.0/24)", v);
				goto out;
			}
		} else if (a->cmd == CARGS_JOIN &&
			   ((v = opt_value(argc, argv, &i, "--token", &m)) ||
			    m)) {
			if (!v)
				goto missing;
			token_arg = v;
			n_src++;
		} else if (a->cmd == CARGS_JOIN &&
			   ((v = opt_value(argc, argv, &i, "--token-file",
					   &m)) || m)) {
			if (!v)
				goto missing;
			token_file = v;
			n_src++;
		} else {
			snprintf(err, errlen, "unknown argument '%s'",
				 argv[i][0] == '-' ? argv[i] : "(operand)");
			goto out;
		}
	}
	if (!a->conf[0]) {
		snprintf(err, errlen, "-c FILE is required");
		goto out;
	}
	if (a->cmd == CARGS_INIT) {
		rc = 0;
		goto out;
	}
	env = getenv("NTPNODE_TOKEN");
	if (env && *env && !n_src) {
		rc = take_token(a, env, strlen(env), "NTPNODE_TOKEN", err,
				errlen);
		goto out;
	}
	if (n_src != 1) {
		snprintf(err, errlen, n_src ? "give the join token once "
			 "(--token, --token-file or NTPNODE_TOKEN)" :
			 "a join token is required: --token TOKEN, "
			 "--token-file PATH or env NTPNODE_TOKEN");
		goto out;
	}
	if (token_arg)
		rc = take_token(a, token_arg, strlen(token_arg), "--token",
				err, errlen);
	else
		rc = read_token_file(a, token_file, err, errlen);
	goto out;
missing:
	snprintf(err, errlen, "%s needs a value", argv[i]);
out:
	/* Whatever happened, no copy of a token stays readable by others. */
	for (i = 1; i < argc; i++)
		if (strncmp(argv[i], "--token", 7) == 0 &&
		    strncmp(argv[i], "--token-file", 12) != 0) {
			if (argv[i][7] == '=')
				wipe_str(argv[i] + 8);
			else if (i + 1 < argc)
				wipe_str(argv[i + 1]);
		}
	env = getenv("NTPNODE_TOKEN");
	if (env) {
		wipe_str(env);
		unsetenv("NTPNODE_TOKEN");
	}
	if (rc < 0)
		cargs_wipe(a);
	return rc;
}

void cargs_wipe(struct cargs *a)
{
	sodium_memzero(a->token, sizeof(a->token));
}
