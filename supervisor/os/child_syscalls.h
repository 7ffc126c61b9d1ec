// The child routine's steps (child.cc), each one system call, made without
// the C library where the child may run beside us.
//
// A child launched overlapped (child.h, Launch::Overlap) runs in our memory
// and at the same time as we do. It then also shares our thread's errno
// (our TLS: clone() without CLONE_SETTLS keeps the thread pointer), and
// every C library wrapper that fails writes errno: a child's failed close()
// could turn the EAGAIN our loop is about to read into an EBADF. On 64-bit
// x86 and arm64 these steps therefore issue the system call instruction
// themselves and return the error instead, touching no memory but their
// arguments (kNative). glibc's own wrappers would have a second problem in
// a process that is not single-threaded: setuid() and friends signal every
// thread to change credentials with it; here the kernel call changes the
// child's alone, as it must.
//
// Elsewhere (32-bit ABIs, whose system calls differ: 16-bit ids, 32-bit
// rlimits, other sigset sizes) the steps are the C library's own calls, and
// children are launched waiting (CLONE_VFORK: we are suspended, so errno is
// the child's alone).
//
// Each step returns 0 or the errno of its failure.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sv::child_sys {

#if (defined(__x86_64__) || defined(__aarch64__)) && defined(__LP64__)
inline constexpr bool kNative = true;

#define SV_STEP __attribute__((always_inline)) inline

#if defined(__x86_64__)
SV_STEP long call(long n, long a = 0, long b = 0, long c = 0, long d = 0) {
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}
#else
SV_STEP long call(long n, long a = 0, long b = 0, long c = 0, long d = 0) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
}
#endif

// A result of call(): the errno of a failure (-4095..-1), or 0.
SV_STEP int error_of(long r) {
    return r < 0 && r > -4096 ? static_cast<int>(-r) : 0;
}

template <class T>
SV_STEP long arg(T* p) {
    return reinterpret_cast<long>(p);
}

// The kernel's struct sigaction (not the C library's): all zero is SIG_DFL
// with no flags and an empty mask, on x86-64 and arm64 alike. Their
// sigset_t is 8 bytes.
struct KernelSigaction {
    unsigned long handler = 0;
    unsigned long flags = 0;
    unsigned long restorer = 0;
    unsigned long mask = 0;
};
constexpr long kSigsetSize = 8;

SV_STEP int default_action(int sig) {
    const KernelSigaction dfl;
    return error_of(call(SYS_rt_sigaction, sig, arg(&dfl), 0, kSigsetSize));
}
SV_STEP int own_group() {
    return error_of(call(SYS_setpgid, 0, 0));
}
SV_STEP void take_terminal(int fd) {
    const int self = static_cast<int>(call(SYS_getpid));
    call(SYS_ioctl, fd, TIOCSPGRP, arg(&self));
}
SV_STEP int new_session() {
    return error_of(call(SYS_setsid));
}
SV_STEP int move_fd(int from, int to) {
    return error_of(call(SYS_dup3, from, to, 0));
}
SV_STEP int cloexec_from(int first) {
    return error_of(call(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC));
}
SV_STEP void set_cloexec(int fd) {
    call(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
}
SV_STEP int change_dir(const char* path) {
    return error_of(call(SYS_chdir, arg(path)));
}
// On these ABIs struct rlimit is prlimit64's struct.
SV_STEP int set_limit(int resource, const struct rlimit* rl) {
    return error_of(call(SYS_prlimit64, 0, resource, arg(rl), 0));
}
SV_STEP void set_umask(mode_t mask) {
    call(SYS_umask, static_cast<long>(mask));
}
SV_STEP int set_groups(std::size_t n, const gid_t* groups) {
    return error_of(call(SYS_setgroups, static_cast<long>(n), arg(groups)));
}
SV_STEP int set_gid(gid_t gid) {
    return error_of(call(SYS_setgid, static_cast<long>(gid)));
}
SV_STEP int set_uid(uid_t uid) {
    return error_of(call(SYS_setuid, static_cast<long>(uid)));
}
SV_STEP void unblock_all() {
    const unsigned long none = 0;
    call(SYS_rt_sigprocmask, SIG_SETMASK, arg(&none), 0, kSigsetSize);
}
SV_STEP int exec(const char* path, char* const* argv, char* const* envp) {
    return error_of(call(SYS_execve, arg(path), arg(argv), arg(envp)));
}
[[noreturn]] SV_STEP void exit_now(int code) {
    for (;;) call(SYS_exit_group, code);
}

#undef SV_STEP

#else
inline constexpr bool kNative = false;

inline int error_if(bool failed) {
    return failed ? errno : 0;
}

inline int default_action(int sig) {
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    return error_if(::sigaction(sig, &dfl, nullptr) < 0);
}
inline int own_group() {
    return error_if(::setpgid(0, 0) < 0);
}
inline void take_terminal(int fd) {
    (void)::tcsetpgrp(fd, ::getpid());
}
inline int new_session() {
    return error_if(::setsid() < 0);
}
inline int move_fd(int from, int to) {
    return error_if(::dup2(from, to) < 0);
}
inline int cloexec_from(int first) {
    return error_if(::close_range(static_cast<unsigned>(first), ~0U, CLOSE_RANGE_CLOEXEC) < 0);
}
inline void set_cloexec(int fd) {
    (void)::fcntl(fd, F_SETFD, FD_CLOEXEC);
}
inline int change_dir(const char* path) {
    return error_if(::chdir(path) < 0);
}
inline int set_limit(int resource, const struct rlimit* rl) {
    return error_if(::setrlimit(resource, rl) < 0);
}
inline void set_umask(mode_t mask) {
    ::umask(mask);
}
inline int set_groups(std::size_t n, const gid_t* groups) {
    return error_if(::setgroups(n, groups) < 0);
}
inline int set_gid(gid_t gid) {
    return error_if(::setgid(gid) < 0);
}
inline int set_uid(uid_t uid) {
    return error_if(::setuid(uid) < 0);
}
inline void unblock_all() {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}
inline int exec(const char* path, char* const* argv, char* const* envp) {
    ::execve(path, argv, envp);
    return errno;
}
[[noreturn]] inline void exit_now(int code) {
    ::_exit(code);
}
#endif

}  // namespace sv::child_sys
