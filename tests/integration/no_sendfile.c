/*
 * A test-only preload for imgctl (tests/integration/imgctl.sh): sendfile
 * fails with EINVAL, as it does for a file on a file system that cannot
 * hand its pages to a socket, so that imgctl's fallback (read and send)
 * is what sends the image. Each call appends a line to $NO_SENDFILE_LOG,
 * so that the test knows the preload was there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/sendfile.h>
#include <sys/types.h>
#include <unistd.h>

ssize_t
sendfile(int out, int in, off_t *off, size_t count)
{
	const char *log = getenv("NO_SENDFILE_LOG");
	int saved = errno, fd;

	if (log != NULL &&
	    (fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) !=
		-1) {
		(void)!write(fd, "sendfile\n", 9);
		close(fd);
	}
	errno = saved;
	(void)out;
	(void)in;
	(void)off;
	(void)count;
	errno = EINVAL;
	return -1;
}

ssize_t
sendfile64(int out, int in, off_t *off, size_t count)
{
	return sendfile(out, in, off, count);
}
