/* Command-line parsing: global options, then a command and its options
 * (global options are also accepted after the command). */
#include "ctl.h"

#include <string.h>

static int opt_index(const ctl_cmd *cmd, const char *name, size_t len)
{
	for (int i = 0; cmd && cmd->opts[i].name; i++)
		if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0)
			return i;
	return -1;
}

static const ctl_cmd *find_cmd(const char *name)
{
	for (const ctl_cmd *c = ctl_cmds; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int ctl_parse(ctl_args *a, int argc, char **argv, char *why, size_t whylen)
{
	memset(a, 0, sizeof *a);
	why[0] = '\0';
	if (argc > CTL_MAX_ARGS) {
		snprintf(why, whylen, "quá nhiều tham số (tối đa %d)", CTL_MAX_ARGS);
		return CTL_EXIT_USAGE;
	}
	bool only_pos = false;
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		if (only_pos || w[0] != '-' || strcmp(w, "-") == 0) {
			if (!a->cmd) {
				if (!(a->cmd = find_cmd(w))) {
					snprintf(why, whylen, "lệnh không rõ: %s", w);
					return CTL_EXIT_USAGE;
				}
			} else {
				a->pos[a->n_pos++] = w;
			}
			continue;
		}
		if (strcmp(w, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (strcmp(w, "-h") == 0 || strcmp(w, "--help") == 0) {
			a->help = true;
			continue;
		}
		if (w[1] != '-') {
			snprintf(why, whylen, "tuỳ chọn không rõ: %s", w);
			return CTL_EXIT_USAGE;
		}
		const char *name = w + 2;
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const char **gval = NULL;
		if (nlen == 4 && strncmp(name, "node", 4) == 0)
			gval = &a->node;
		else if (nlen == 10 && strncmp(name, "token-file", 10) == 0)
			gval = &a->token_file;
		else if (nlen == 4 && strncmp(name, "json", 4) == 0 && !eq) {
			a->json = true;
			continue;
		} else if (nlen == 7 && strncmp(name, "version", 7) == 0 && !eq && !a->cmd) {
			a->version = true;
			continue;
		}
		int oi = gval ? -1 : opt_index(a->cmd, name, nlen);
		if (!gval && oi < 0) {
			snprintf(why, whylen, "tuỳ chọn không rõ%s%s: --%.*s", a->cmd ? " cho lệnh " : "",
			         a->cmd ? a->cmd->name : "", (int)nlen, name);
			return CTL_EXIT_USAGE;
		}
		int flags = gval ? CTL_ARG : a->cmd->opts[oi].flags;
		const char *v = NULL;
		if (flags & CTL_ARG) {
			if (eq) {
				v = eq + 1;
			} else if (i + 1 < argc) {
				v = argv[++i];
			} else {
				snprintf(why, whylen, "--%.*s cần một giá trị", (int)nlen, name);
				return CTL_EXIT_USAGE;
			}
		} else if (eq) {
			snprintf(why, whylen, "--%.*s không nhận giá trị", (int)nlen, name);
			return CTL_EXIT_USAGE;
		}
		if (gval) {
			*gval = v;
		} else if (flags & CTL_MULTI) {
			a->multi[a->n_multi] = v;
			a->multi_opt[a->n_multi++] = oi;
			a->set[oi] = true;
		} else {
			if (a->set[oi]) {
				snprintf(why, whylen, "--%s chỉ được dùng một lần", a->cmd->opts[oi].name);
				return CTL_EXIT_USAGE;
			}
			a->set[oi] = true;
			a->val[oi] = v ? v : "";
		}
	}
	if (a->help || a->version)
		return CTL_EXIT_OK;
	if (!a->cmd) {
		snprintf(why, whylen, "thiếu lệnh");
		return CTL_EXIT_USAGE;
	}
	if (a->n_pos < a->cmd->min_pos || a->n_pos > a->cmd->max_pos) {
		snprintf(why, whylen, a->n_pos < a->cmd->min_pos ? "%s: thiếu tham số" : "%s: thừa tham số",
		         a->cmd->name);
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

const char *ctl_opt(const ctl_args *a, const char *name)
{
	int i = opt_index(a->cmd, name, strlen(name));
	return i >= 0 && a->set[i] ? a->val[i] : NULL;
}

const char *ctl_opt_multi(const ctl_args *a, const char *name, size_t n)
{
	int i = opt_index(a->cmd, name, strlen(name));
	for (size_t k = 0; i >= 0 && k < a->n_multi; k++)
		if (a->multi_opt[k] == i && n-- == 0)
			return a->multi[k];
	return NULL;
}

void ctl_usage(FILE *f, const ctl_cmd *cmd)
{
	if (cmd) {
		fprintf(f, "cách dùng: edunetctl [--node URL] [--token-file F] [--json] %s %s\n",
		        cmd->name, cmd->synopsis);
		return;
	}
	fprintf(f, "cách dùng: edunetctl [--node URL] [--token-file F] [--json] LỆNH ...\n"
	           "  --node URL        node to talk to (default " CTL_DEFAULT_NODE ")\n"
	           "  --token-file F    admin token file (or env EDUNET_TOKEN)\n"
	           "  --json            print the node's JSON\n"
	           "  --version, --help\n"
	           "Lệnh:\n");
	for (const ctl_cmd *c = ctl_cmds; c->name; c++)
		fprintf(f, "  %s %s\n", c->name, c->synopsis);
	fprintf(f, "  ca init|issue|revoke|list ...   (province CA, local files; `edunetctl ca` for details)\n");
}
