/*
 * webserver - a small HTTP/1.0 and HTTP/1.1 server on a preopened socket.
 *
 *	./k23sim --tcplisten 127.0.0.1:8080 [--dir site::/www] \
 *		build/examples/webserver.wasm [REQUESTS]
 *
 * WASI preview1 cannot create or bind sockets: the runtime listens and
 * hands the program the listening socket as a preopened descriptor, the
 * first one after stdio whose type is a stream socket.  Connections are
 * taken with sock_accept and served one after the other:
 *
 *	GET or HEAD /		a fixed page
 *	GET or HEAD /files/NAME	the file NAME of the directory preopened
 *				as /www, if there is one
 *	anything else		404, 405 or 400
 *
 * Every response closes its connection.  With REQUESTS the server exits
 * with status 0 after that many, which lets a test end it cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#define REQUEST_MAX	8192	/* request line and headers */
#define FILES_PREFIX	"/files/"
#define WWW_NAME	"/www"

static const char index_page[] =
	"<!DOCTYPE html>\n"
	"<html><head><title>k23</title></head>\n"
	"<body><h1>Hello from k23!</h1>\n"
	"<p>This page was served by a WebAssembly program through WASI sockets.</p>\n"
	"</body></html>\n";

/* The descriptor of the directory preopened as /www, or -1. */
static int www_dir = -1;

/*
 * Find the /www preopen by asking each descriptor.  wasi-libc cannot be
 * asked by path here: its own scan of the preopens stops at the first
 * descriptor that is not one, and the listening socket comes first.
 */
static int find_www(void)
{
	__wasi_prestat_t pre;
	char name[sizeof(WWW_NAME)];

	for (__wasi_fd_t fd = 3; fd < 64; fd++) {
		if (__wasi_fd_prestat_get(fd, &pre) != 0 || pre.tag != __WASI_PREOPENTYPE_DIR ||
		    pre.u.dir.pr_name_len != sizeof(name) - 1)
			continue;
		if (__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, sizeof(name) - 1) == 0 &&
		    !memcmp(name, WWW_NAME, sizeof(name) - 1))
			return (int)fd;
	}
	return -1;
}

/* The first descriptor after stdio that is a stream socket, or -1. */
static int find_listener(void)
{
	__wasi_fdstat_t st;

	/* Descriptors are dense from 3: the first EBADF ends the preopens. */
	for (__wasi_fd_t fd = 3; __wasi_fd_fdstat_get(fd, &st) != __WASI_ERRNO_BADF; fd++)
		if (st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM)
			return (int)fd;
	return -1;
}

/*
 * Wait until FD is ready for EVENT (__WASI_EVENTTYPE_FD_READ: a connection
 * to accept or bytes to read; FD_WRITE: room to send), for at most a
 * second: a non-blocking descriptor says EAGAIN, and the caller retries
 * after this.
 */
static void wait_ready(int fd, __wasi_eventtype_t event)
{
	/* fd_read and fd_write subscriptions have the same layout. */
	__wasi_subscription_t subs[2] = {
		{ .userdata = 1, .u.tag = event,
		  .u.u.fd_read.file_descriptor = (__wasi_fd_t)fd },
		{ .userdata = 2, .u.tag = __WASI_EVENTTYPE_CLOCK,
		  .u.u.clock = { .id = __WASI_CLOCKID_MONOTONIC, .timeout = 1000000000 } },
	};
	__wasi_event_t events[2];
	__wasi_size_t n;

	(void)__wasi_poll_oneoff(subs, events, 2, &n);
}

static int accept_one(int listener)
{
	__wasi_fd_t conn;
	__wasi_errno_t err;

	while ((err = __wasi_sock_accept((__wasi_fd_t)listener, 0, &conn)) == __WASI_ERRNO_AGAIN)
		wait_ready(listener, __WASI_EVENTTYPE_FD_READ);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return (int)conn;
}

/* Send all of BUF; 0, or -1 if the peer went away. */
static int send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, 0);

		if (n < 0 && errno == EAGAIN) {
			wait_ready(fd, __WASI_EVENTTYPE_FD_WRITE);
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read the request line and headers into BUF (NUL-terminated) up to the
 * blank line that ends them; the length, or -1 if the peer closed first or
 * they do not fit.
 */
static int read_request(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len < size - 1) {
		ssize_t n = recv(fd, buf + len, size - 1 - len, 0);

		if (n < 0 && errno == EAGAIN) {
			wait_ready(fd, __WASI_EVENTTYPE_FD_READ);
			continue;
		}
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			return (int)len;
	}
	return -1;
}

static const char *content_type(const char *name)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".css", "text/css" },
		{ ".js", "text/javascript" },
		{ ".json", "application/json" },
		{ ".png", "image/png" },
		{ ".wasm", "application/wasm" },
	};
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(dot, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/* Send a status line and headers; LENGTH is the body's size. */
static int send_head(int fd, int status, const char *reason, const char *type, long long length)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\n"
			 "Server: k23-webserver\r\n"
			 "Content-Type: %s\r\n"
			 "Content-Length: %lld\r\n"
			 "%s"
			 "Connection: close\r\n\r\n",
			 status, reason, type, length,
			 status == 405 ? "Allow: GET, HEAD\r\n" : "");

	return send_all(fd, head, (size_t)n);
}

/* A short text response; returns STATUS. */
static int send_text(int fd, int status, const char *reason, int head_only)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, reason);

	send_head(fd, status, reason, "text/plain; charset=utf-8", n);
	if (!head_only)
		send_all(fd, body, (size_t)n);
	return status;
}

/* Serve /files/NAME from the /www preopen; returns the status sent. */
static int send_file(int fd, const char *name, int head_only)
{
	char buf[16384];
	struct stat st;
	ssize_t n;
	int file;

	/* The sandbox would stop a climb out of /www; refuse it before that. */
	if (www_dir < 0 || !*name || strstr(name, ".."))
		return send_text(fd, 404, "Not Found", head_only);
	file = openat(www_dir, name, O_RDONLY);
	if (file < 0 || fstat(file, &st) != 0 || !S_ISREG(st.st_mode)) {
		int denied = file >= 0 || errno == EACCES || errno == EPERM || errno == ENOTCAPABLE;

		if (file >= 0)
			close(file);
		return denied ? send_text(fd, 403, "Forbidden", head_only) :
				send_text(fd, 404, "Not Found", head_only);
	}
	send_head(fd, 200, "OK", content_type(name), (long long)st.st_size);
	while (!head_only && (n = read(file, buf, sizeof(buf))) > 0)
		if (send_all(fd, buf, (size_t)n) != 0)
			break;
	close(file);
	return 200;
}

/* Answer one request on connection FD; returns the status sent. */
static int serve(int fd, char *method_out, size_t method_size, char *target_out, size_t target_size)
{
	static char req[REQUEST_MAX];
	char method[16], target[1024], version[16];
	int head_only;

	snprintf(method_out, method_size, "-");
	snprintf(target_out, target_size, "-");
	if (read_request(fd, req, sizeof(req)) < 0)
		return send_text(fd, 400, "Bad Request", 0);
	if (sscanf(req, "%15s %1023s %15s", method, target, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0 || target[0] != '/')
		return send_text(fd, 400, "Bad Request", 0);
	snprintf(method_out, method_size, "%s", method);
	snprintf(target_out, target_size, "%s", target);
	target[strcspn(target, "?#")] = '\0';

	head_only = !strcmp(method, "HEAD");
	if (!head_only && strcmp(method, "GET") != 0)
		return send_text(fd, 405, "Method Not Allowed", 0);
	if (!strcmp(target, "/") || !strcmp(target, "/index.html")) {
		send_head(fd, 200, "OK", "text/html; charset=utf-8", sizeof(index_page) - 1);
		if (!head_only)
			send_all(fd, index_page, sizeof(index_page) - 1);
		return 200;
	}
	if (!strncmp(target, FILES_PREFIX, strlen(FILES_PREFIX)))
		return send_file(fd, target + strlen(FILES_PREFIX), head_only);
	return send_text(fd, 404, "Not Found", head_only);
}

int main(int argc, char **argv)
{
	char method[16], target[64];
	long limit = 0;
	int listener;
	char *end;

	if (argc > 2 || (argc == 2 && ((limit = strtol(argv[1], &end, 10)) < 1 || *end))) {
		fprintf(stderr, "usage: %s [REQUESTS]  (serve that many, then exit)\n", argv[0]);
		return 2;
	}
	listener = find_listener();
	if (listener < 0) {
		fprintf(stderr, "webserver: no listening socket: run it with --tcplisten ADDR:PORT\n");
		return 1;
	}
	www_dir = find_www();
	printf("webserver: listening on fd %d%s\n", listener,
	       www_dir < 0 ? "" : ", serving files from " WWW_NAME);
	fflush(stdout);

	for (long served = 0; limit == 0 || served < limit; served++) {
		int conn = accept_one(listener);
		int status;

		if (conn < 0) {
			fprintf(stderr, "webserver: sock_accept: %s\n", strerror(errno));
			return 1;
		}
		status = serve(conn, method, sizeof(method), target, sizeof(target));
		printf("webserver: %s %s -> %d\n", method, target, status);
		fflush(stdout);
		shutdown(conn, SHUT_RDWR);
		close(conn);
	}
	return 0;
}
