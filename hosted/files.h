/*
 * files.h - what the command line needs from the hosted file device
 * (hosted/files.c) beyond kernel/hal.h: handles for the files and sockets
 * k23sim was given.  Linking files.c also sets SIGPIPE to be ignored (see
 * there).
 */
#ifndef K23_HOSTED_FILES_H
#define K23_HOSTED_FILES_H

/*
 * A handle (>= 3) for an inherited host descriptor such as 0, 1 or 2, or
 * -K_*.  hostfd itself stays open and unchanged: closing the handle never
 * closes it.  Pipes, terminals and character devices are opened anew
 * through /proc/self/fd so the handle can be non-blocking without making
 * the description k23sim shares with its parent (the shell's terminal)
 * non-blocking; a socket's shared description is made non-blocking.
 */
int hosted_fd_adopt(int hostfd);

/*
 * A non-blocking listening TCP socket on "ADDR:PORT" (127.0.0.1:8080,
 * [::1]:8080, localhost:0), as --tcplisten gives it: 0 and *handle, or a
 * -K_* after one line on stderr saying what was wrong.
 */
int hosted_tcp_listen(const char *addr_port, int *handle);

#endif /* K23_HOSTED_FILES_H */
