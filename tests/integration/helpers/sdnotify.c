/* sdnotify TEXT: sends TEXT as one datagram to the AF_UNIX socket named by
 * $NOTIFY_SOCKET (a leading '@' means the abstract namespace), as
 * sd_notify(3) does, without waiting for a barrier. Exit 0 when sent. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char** argv) {
    const char* path = getenv("NOTIFY_SOCKET");
    if (argc != 2 || !path || !*path) return 2;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t len = strlen(path);
    if (len >= sizeof sa.sun_path) return 2;
    memcpy(sa.sun_path, path, len);
    if (path[0] == '@') sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 1;
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    ssize_t n = sendto(fd, argv[1], strlen(argv[1]), 0, (struct sockaddr*)&sa, salen);
    if (n < 0) {
        perror("sdnotify: sendto");
        return 1;
    }
    return 0;
}
