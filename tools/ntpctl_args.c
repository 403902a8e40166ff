/* ntpctl_args: ntpctl's command line, read with the command table. */
#include "tools/ntpctl_args.h"

#include <stdio.h>
#include <string.h>

/*
 * ntpctl's own option at argv[*i]: 1 (taken, *i advanced), 0 (not ours),
 * -1 (ours but wrong: err). -s/-o take a value, attached (-ojson,
 * --output=json) or as the next word.
 */
static int take_global(struct ntpctl_args *a, int argc, char **argv, int *i,
		       char *err, size_t errlen)
{
	static const struct {
		char letter;
		const char *name;   /* long form */
	} opts[] = { { 's', "--socket" }, { 'o', "--output" } };
	const char *w = argv[*i], *val = NULL;
	size_t k, len;
	int o = 0;

	if (strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0 ||
	    strcmp(w, "-V") == 0 || strcmp(w, "--version") == 0) {
		(*i)++;         /* seen before parsing (ntpctl_args_parse) */
		return 1;
	}
	for (k = 0; k < sizeof(opts) / sizeof(opts[0]) && !o; k++) {
		len = strlen(opts[k].name);
		if (w[0] == '-' && w[1] == opts[k].letter) {
			o = opts[k].letter;
			val = w[2] ? w + 2 : NULL;
		} else if (strncmp(w, opts[k].name, len) == 0 &&
			   (w[len] == '\0' || w[len] == '=')) {
			o = opts[k].letter;
			val = w[len] ? w + len + 1 : NULL;
		}
	}
	if (!o)
		return 0;
	if (!val) {
		if (*i + 1 >= argc) {
			snprintf(err, errlen, "%s needs a value", w);
			return -1;
		}
		val = argv[++*i];
	}
	(*i)++;
	if (o == 's') {
		if (!*val) {
			snprintf(err, errlen, "-s needs a path");
			return -1;
		}
		a->socket = val;
	} else if (strcmp(val, "json") == 0 || strcmp(val, "text") == 0) {
		a->json = val[0] == 'j';
	} else {
		snprintf(err, errlen, "-o takes text or json, not '%.32s'",
			 val);
		return -1;
	}
	return 1;
}

/* -h/--help and -V/--version win wherever they are (before `--`): the
 * first one seen. */
static void find_help(struct ntpctl_args *a, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			a->help = 1;
			return;
		}
		if (strcmp(argv[i], "-V") == 0 ||
		    strcmp(argv[i], "--version") == 0) {
			a->version = 1;
			return;
		}
	}
}

/* "token frob" from the words given so far, for the message. */
static void unknown(char *const *words, int n, char *err, size_t errlen)
{
	size_t off;
	int k, w;

	w = snprintf(err, errlen, "unknown command '");
	off = w < 0 ? errlen : (size_t)w;
	for (k = 0; k < n && off < errlen; k++) {
		w = snprintf(err + off, errlen - off, "%s%.32s", k ? " " : "",
			     words[k]);
		off = w < 0 ? errlen : off + (size_t)w;
	}
	if (off < errlen)
		snprintf(err + off, errlen - off, "'");
}

int ntpctl_args_parse(struct ntpctl_args *a, int argc, char **argv,
		      char *err, size_t errlen)
{
	char *words[NTPCTL_MAX_WORDS];
	int i = 1, nw = 0, ended = 0, r, rc = NTPCTL_ARGS_OK;

	memset(a, 0, sizeof(*a));
	ctlcmd_args_init(&a->args);
	err[0] = '\0';
	find_help(a, argc, argv);
	if (argc > NTPCTL_MAX_WORDS) {
		snprintf(err, errlen, "too many arguments");
		rc = NTPCTL_ARGS_EUSAGE;
		goto out;
	}
	while (i < argc) {
		const char *w = argv[i];

		if (!ended && strcmp(w, "--") == 0) {
			ended = 1;
			i++;
			continue;
		}
		if (!ended) {
			r = take_global(a, argc, argv, &i, err, errlen);
			if (r < 0) {
				rc = NTPCTL_ARGS_EUSAGE;
				goto out;
			}
			if (r > 0)
				continue;
		}
		if (!a->cmd) {
			/* still reading the command's words */
			if (!ended && w[0] == '-' && w[1]) {
				snprintf(err, errlen, "unknown option '%.64s' "
					 "(a command's own options come after "
					 "it)", w);
				rc = NTPCTL_ARGS_EUSAGE;
				goto out;
			}
			words[nw++] = argv[i++];
			a->cmd = ctlcmd_find_words(words, nw);
			if (!a->cmd && !ctlcmd_starts(words, nw)) {
				unknown(words, nw, err, errlen);
				rc = NTPCTL_ARGS_EUSAGE;
				goto out;
			}
			continue;
		}
		if (ended) {
			if (a->args.argc >= CTL_MAX_ARGS) {
				snprintf(err, errlen, "too many arguments");
				rc = NTPCTL_ARGS_ECMD;
				goto out;
			}
			a->args.argv[a->args.argc++] = argv[i++];
			continue;
		}
		if (ctlcmd_take(a->cmd, &a->args, argc, argv, &i, 0, err,
				errlen) < 0) {
			rc = NTPCTL_ARGS_ECMD;
			goto out;
		}
	}
	if (!a->cmd) {
		if (nw)
			unknown(words, nw, err, errlen);
		else
			snprintf(err, errlen, "no command given");
		rc = NTPCTL_ARGS_EUSAGE;
	} else if (ctlcmd_check(a->cmd, &a->args, 0, err, errlen) < 0) {
		rc = NTPCTL_ARGS_ECMD;
	}
out:
	if (a->help || a->version)
		rc = NTPCTL_ARGS_OK;
	return rc;
}
