#!/bin/sh
# The layers' rules, checked by machine (CI runs this):
#   - supervisor/core/ is pure: it includes no OS header (<ev.h>, <unistd.h>,
#     <sys/...>, sockets, files, users) and calls no system function (fork,
#     kill, wait, sockets, files, clocks, the environment, errno texts);
#   - no source file is longer than 550 lines;
#   - every C and C++ file is clang-formatted.
# The build itself enforces the direction of includes (core sees only core,
# os sees core and os): see CMakeLists.txt.
set -eu
cd "$(dirname "$0")/.."
status=0

os_headers='<(ev|unistd|fcntl|poll|netdb|dirent|pwd|grp|signal|spawn|termios|pthread|dlfcn)\.h>|<(sys|arpa|netinet|linux)/'
if grep -nE "#include[[:space:]]*$os_headers" supervisor/core/*.h supervisor/core/*.cc; then
    echo "check-layout: the core includes an OS header (above); move that code to supervisor/os/" >&2
    status=1
fi
os_calls='(^|[^_[:alnum:]])(::)?(fork|vfork|execve|execvp|execvpe|kill|killpg|waitpid|waitid|wait|socket|connect|accept4?|bind|listen|fopen|open|openat|read|write|close|pipe2?|dup2|poll|epoll_wait|getenv|setenv|strerror|getpid|time|clock_gettime|gettimeofday|sleep|usleep|nanosleep|reboot|prctl|getpwnam|getgrnam|getaddrinfo)[[:space:]]*\(|std::(ifstream|ofstream|fstream)|(steady_clock|system_clock|Clock)::now'
# Comments and string literals may name these words; code may not.
if for f in supervisor/core/*.h supervisor/core/*.cc; do
       sed -e 's#//.*##' -e 's/"[^"]*"/""/g' "$f" | grep -nE "$os_calls" | sed "s#^#$f:#"
   done | grep .; then
    echo "check-layout: the core calls the OS (above); go through the Sys seam (core/sys.h)" >&2
    status=1
fi

long=$(find supervisor -name '*.cc' -o -name '*.h' | xargs wc -l | grep -v ' total$' | awk '$1 > 550')
if [ -n "$long" ]; then
    echo "check-layout: source files over 550 lines (split them along their seams):" >&2
    echo "$long" >&2
    status=1
fi

files=$(find supervisor tests fuzz bench \( -name '*.cc' -o -name '*.h' -o -name '*.c' \) | sort)
# shellcheck disable=SC2086
if ! clang-format --dry-run --Werror $files; then
    echo "check-layout: run clang-format -i on the files above" >&2
    status=1
fi
exit $status
