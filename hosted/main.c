/*
 * main.c - the k23sim program: parse the command line, boot the kernel
 * inside this process.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../kernel/hal.h"
#include "../kernel/log.h"
#include "../kernel/pt.h"
#include "cli.h"
#include "hosted.h"

#define K23SIM_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: k23sim [options] APP.wasm [ARGS...]\n"
		"       k23sim [options] --invoke NAME APP.wasm [ARGS...]\n"
		"       k23sim [options]           boot the kernel and run its self-check\n"
		"       k23sim validate APP.wasm   check a module without running it\n"
		"       k23sim inspect APP.wasm    summarise a module's sections\n"
		"\n"
		"Boot the k23 kernel as a Linux process (harts are threads, RAM is a\n"
		"memfd, RISC-V page tables are applied with mmap) and run APP.wasm, a\n"
		"WASI preview1 command, with ARGS: its exit code is k23sim's.  The app\n"
		"sees only what it is granted: the directories of --dir, the sockets of\n"
		"--tcplisten and the environment of --env.  With no app, the kernel\n"
		"boots, prints its banner, runs its self-check and exits.\n"
		"\n"
		"With --invoke, the kernel calls APP.wasm's exported function NAME with\n"
		"ARGS (i32/i64/f32/f64 as in the wasm text format: -7, 0x1f, 1.5,\n"
		"-0x1p-3, inf, nan:0x200000), printing each result on a line of its own.\n"
		"\n"
		"options:\n"
		"  --dir HOST[::GUEST]  let the app use directory HOST, as GUEST (default:\n"
		"                   the same path); repeatable\n"
		"  --env NAME=VALUE an environment variable for the app; repeatable (the\n"
		"                   app inherits none of k23sim's)\n"
		"  --tcplisten ADDR:PORT  a listening TCP socket for the app (e.g.\n"
		"                   127.0.0.1:8080); repeatable; fds from 3, before dirs\n"
		"  --trace-wasi     one line per WASI call on stderr: name, arguments,\n"
		"                   result\n"
		"  --invoke NAME    call the exported function NAME of APP.wasm\n"
		"  --harts N        number of harts, 1-64 (default: one per host CPU)\n"
		"  --memory SIZE    simulated RAM, e.g. 256M or 1G; 8M-64G, a multiple\n"
		"                   of 2M (default: the host's RAM, 256M-8G)\n"
		"  --paging MODE    sv39, sv48 or sv57 (default sv39)\n"
		"  --perf-map       name the compiled wasm functions in /tmp/perf-PID.map,\n"
		"                   for perf report (func[N] NAME from the name section)\n"
		"  --log FILTER     log levels, e.g. 'info' or 'warn,mm=debug'; also\n"
		"                   read from K23_LOG (levels: error warn info debug trace;\n"
		"                   subsystems: boot mm vm trap sched jit wasi)\n"
		"  -q, --quiet      no banner\n"
		"  -h, --help       this text\n"
		"  -V, --version    the version\n"
		"\n"
		"exit status: the app's exit code; 0 when the self-check passes (or an\n"
		"--invoke call returns); 1 when the self-check fails, or the module cannot\n"
		"be read, compiled or linked, or a --dir or --tcplisten cannot be opened\n"
		"(one line on stderr says why); 2 for bad usage; 125 on a kernel panic;\n"
		"134 when the wasm code traps (the trap and a wasm backtrace go to\n"
		"stderr).\n");
}

/* "256M", "1G", "65536": bytes, or 0 when unparsable or overflowing. */
static unsigned long long parse_size(const char *s)
{
	char *end;
	unsigned long long v, mul = 1;

	errno = 0;
	if (*s < '0' || *s > '9')
		return 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return 0;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	default: break;
	}
	if ((*end == 'i' || *end == 'I') && mul > 1 && end[1] == 'B')
		end += 2;
	if (*end || v > ULLONG_MAX / mul)
		return 0;
	return v * mul;
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "k23sim: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see k23sim --help)\n");
	return 2;
}

static int run(int argc, char **argv, const char **dirs, const char **env,
	       const char **listen);

int main(int argc, char **argv)
{
	/* The repeatable options: at most argc of each. */
	const char **dirs = calloc((size_t)argc, sizeof(char *));
	const char **env = calloc((size_t)argc, sizeof(char *));
	const char **listen = calloc((size_t)argc, sizeof(char *));
	int status = 1;

	/* A closed stdio descriptor would be reused by the next open, and
	 * k23sim's own messages would land in that file. */
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return 1;
	if (dirs && env && listen)
		status = run(argc, argv, dirs, env, listen);
	else
		fprintf(stderr, "k23sim: out of memory\n");
	free(dirs);
	free(env);
	free(listen);
	return status;
}

static int run(int argc, char **argv, const char **dirs, const char **env,
	       const char **listen)
{
	static const struct option opts[] = {
		{ "harts", required_argument, NULL, 'n' },
		{ "memory", required_argument, NULL, 'm' },
		{ "paging", required_argument, NULL, 'p' },
		{ "log", required_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "invoke", required_argument, NULL, 'i' },
		{ "dir", required_argument, NULL, 'd' },
		{ "env", required_argument, NULL, 'e' },
		{ "tcplisten", required_argument, NULL, 't' },
		{ "trace-wasi", no_argument, NULL, 'T' },
		{ "perf-map", no_argument, NULL, 'P' },
		{ 0 }
	};
	struct hosted_app app = { .dirs = dirs, .env = env, .listen = listen };
	struct hosted_config cfg;
	long ncpus;
	int c, status;

	if (argc > 1 && !strcmp(argv[1], "validate"))
		return hosted_cmd_validate(argc - 2, argv + 2);
	if (argc > 1 && !strcmp(argv[1], "inspect"))
		return hosted_cmd_inspect(argc - 2, argv + 2);

	hosted_config_default(&cfg);
	/* A hart per host CPU: idle ones sleep, and a large module compiles
	 * on all of them. */
	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	cfg.harts = ncpus < 1 ? 1 : ncpus > HAL_MAX_HARTS ? HAL_MAX_HARTS : (unsigned)ncpus;
	cfg.selfcheck = true;
	cfg.quiet = false;
	cfg.log_filter = getenv("K23_LOG");
	opterr = 0;
	/* "+": options end at APP.wasm, whose own arguments may look like
	 * options (-5). */
	while ((c = getopt_long(argc, argv, "+:qhV", opts, NULL)) != -1) {
		switch (c) {
		case 'n': {
			char *end;
			long n;

			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > 64)
				return bad_usage("--harts: '%s' is not a number from 1 to 64", optarg);
			cfg.harts = (unsigned)n;
			break;
		}
		case 'm':
			cfg.memory = parse_size(optarg);
			if (!cfg.memory)
				return bad_usage("--memory: cannot parse '%s' (e.g. 256M, 1G)", optarg);
			if (cfg.memory < HOSTED_MIN_MEMORY)
				return bad_usage("--memory: %s is too small (at least 8M)", optarg);
			if (cfg.memory > HOSTED_MAX_MEMORY)
				return bad_usage("--memory: %s is too large (at most 64G)", optarg);
			if (cfg.memory % (2u << 20))
				return bad_usage("--memory: %s is not a multiple of 2M", optarg);
			break;
		case 'p':
			cfg.paging = pt_mode_parse(optarg);
			if (!cfg.paging)
				return bad_usage("--paging: '%s' is not sv39, sv48 or sv57", optarg);
			break;
		case 'l':
			cfg.log_filter = optarg;
			break;
		case 'q':
			cfg.quiet = true;
			break;
		case 'P':
			cfg.perf_map = true;
			break;
		case 'i':
			app.invoke = optarg;
			break;
		case 'd':
			dirs[app.ndirs++] = optarg;
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return bad_usage("--env: '%s' is not NAME=VALUE", optarg);
			env[app.nenv++] = optarg;
			break;
		case 't':
			listen[app.nlisten++] = optarg;
			break;
		case 'T':
			app.trace = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("k23sim " K23SIM_VERSION "\n");
			return 0;
		case ':':
			return bad_usage("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				return bad_usage("unknown option '-%s'", (char[]){ (char)optopt, 0 });
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (cfg.log_filter && log_set_filter(cfg.log_filter) < 0)
		return bad_usage("bad log filter '%s'", cfg.log_filter);
	if (optind < argc) {
		/* An app's output is the point: no banner or self-check. */
		cfg.quiet = true;
		cfg.selfcheck = false;
		return hosted_cmd_app(&cfg, &app, argc - optind, argv + optind);
	}
	if (app.invoke)
		return bad_usage("--invoke %s needs an APP.wasm", app.invoke);
	if (app.ndirs || app.nenv || app.nlisten || app.trace)
		return bad_usage("%s", "--dir, --env, --tcplisten and --trace-wasi need an APP.wasm");

	status = hosted_run(&cfg, NULL, NULL);
	if (status < 0)
		return 1;
	return status ? 1 : 0;
}
