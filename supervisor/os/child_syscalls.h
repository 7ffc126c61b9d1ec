// System calls for the child routine (child.cc), made without the C library.
//
// The child runs in our memory (clone with CLONE_VM) and, on x86-64 and
// arm64, at the same time as we do: it is not suspended-parent vfork
// anymore. It then also shares our thread's errno (our TLS: clone() without
// CLONE_SETTLS keeps the thread pointer), and every C library wrapper that
// fails writes errno. A child's failed close() could so turn the EAGAIN our
// loop is about to read into an EBADF. These wrappers issue the system
// call instruction themselves and return -errno instead, touching no memory
// but their arguments. glibc's own wrappers have a second problem in a
// process that is not single-threaded: setuid() and friends signal every
// thread to change credentials with it; here the kernel call changes the
// child's alone, as it must.
//
// Elsewhere (other architectures) ::syscall() stands in, and the child is
// run with CLONE_VFORK (we are suspended, so errno is the child's alone).
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace sv::child_sys {

#if defined(__x86_64__)
inline constexpr bool kNative = true;
__attribute__((always_inline)) inline long call(long n, long a = 0, long b = 0, long c = 0,
                                                long d = 0) {
    long ret;
    register long r10 __asm__("r10") = d;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                     : "rcx", "r11", "memory");
    return ret;
}
#elif defined(__aarch64__)
inline constexpr bool kNative = true;
__attribute__((always_inline)) inline long call(long n, long a = 0, long b = 0, long c = 0,
                                                long d = 0) {
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
    return x0;
}
#else
inline constexpr bool kNative = false;
inline long call(long n, long a = 0, long b = 0, long c = 0, long d = 0) {
    const long r = ::syscall(n, a, b, c, d);
    return r < 0 ? -errno : r;
}
#endif

// A result of call(): the errno of a failure (-4095..-1), or 0.
inline int error_of(long r) {
    return r < 0 && r > -4096 ? static_cast<int>(-r) : 0;
}

}  // namespace sv::child_sys
