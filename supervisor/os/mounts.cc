// The machine init's mounts at start and at power-off: see mounts.h.
#include "mounts.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "power_button.h"

namespace sv {

namespace {

struct EarlyMount {
    const char* target;
    const char* fstype;
    unsigned long flags;
    const char* data;
};

// In this order: /proc first (the later checks read /proc/self/mountinfo),
// /dev before what lives under it.
constexpr EarlyMount kEarlyMounts[] = {
    {"/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
    {"/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr},
    {"/dev", "devtmpfs", MS_NOSUID, "mode=0755"},
    {"/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,gid=5,ptmxmode=0666"},
    {"/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
    {"/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755"},
};

// /proc/self/mountinfo and /proc/self/mounts write space, tab, newline and
// backslash in paths as \ooo.
std::string unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' &&
            s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            out +=
                static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

// The whitespace-separated fields of each line of a /proc table; false
// when the file cannot be opened (no /proc yet).
bool read_table(const char* path, std::vector<std::vector<std::string>>& rows) {
    std::FILE* f = std::fopen(path, "re");
    if (!f) return false;
    std::string line;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, f)) {
        line += buf;
        if (line.empty() || line.back() != '\n') continue;  // a longer line goes on
        std::vector<std::string> fields;
        std::size_t i = 0;
        while (i < line.size()) {
            while (i < line.size() && (line[i] == ' ' || line[i] == '\n')) ++i;
            const std::size_t start = i;
            while (i < line.size() && line[i] != ' ' && line[i] != '\n') ++i;
            if (i > start) fields.push_back(line.substr(start, i - start));
        }
        rows.push_back(std::move(fields));
        line.clear();
    }
    std::fclose(f);
    return true;
}

bool mkdir_if_missing(const char* path) {
    return ::mkdir(path, 0755) == 0 || errno == EEXIST;
}

}  // namespace

bool surely_machine_init() {
    // Asked once: neither our pid nor our PID namespace changes while we
    // live. The first stat of /proc/self/ns/pid costs a fresh process
    // 17-32 us (the kernel makes its /proc dentries), and a container's
    // PID 1 asks at start (the power button) and again on its way out.
    static const bool answer = [] {
        if (::getpid() != 1) return false;
        // The inode of the initial PID namespace (PROC_PID_INIT_INO in the kernel).
        constexpr ino_t kInitialPidNamespaceInode = 0xEFFFFFFCU;
        struct stat st;
        if (::stat("/proc/self/ns/pid", &st) == 0) return st.st_ino == kInitialPidNamespaceInode;
        return ::kill(2, 0) == 0 && ::getpgid(2) == 0;
    }();
    return answer;
}

bool is_mount_point(const std::string& path) {
    std::vector<std::vector<std::string>> rows;
    if (read_table("/proc/self/mountinfo", rows)) {
        // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw": field 5.
        for (const auto& r : rows)
            if (r.size() > 4 && unescape(r[4]) == path) return true;
        return false;
    }
    struct stat self, parent;
    if (::stat(path.c_str(), &self) != 0 || !S_ISDIR(self.st_mode)) return false;
    if (::stat((path + "/..").c_str(), &parent) != 0) return false;
    return self.st_dev != parent.st_dev || self.st_ino == parent.st_ino;
}

void mount_early_filesystems() {
    if (!surely_machine_init()) return;
    for (const EarlyMount& m : kEarlyMounts) {
        if (is_mount_point(m.target)) continue;
        if (!mkdir_if_missing(m.target)) {
            std::fprintf(stderr, "supervisor: warning: cannot create %s: %s\n", m.target,
                         std::strerror(errno));
            continue;
        }
        if (::mount(m.fstype, m.target, m.fstype, m.flags, m.data) != 0)
            std::fprintf(stderr, "supervisor: warning: cannot mount %s on %s: %s\n", m.fstype,
                         m.target, std::strerror(errno));
    }
}

void unmount_for_power_off() {
    if (!surely_machine_init()) return;
    ::sync();
    std::vector<std::vector<std::string>> rows;
    // "proc /proc proc rw,nosuid 0 0": device, mount point, type, options.
    if (read_table("/proc/self/mounts", rows)) {
        for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
            if (it->size() < 3) continue;
            const std::string target = unescape((*it)[1]);
            const std::string& type = (*it)[2];
            // Kept: the API file systems (nothing to flush, and a late
            // message may still want /dev/console) and the root itself.
            if (target == "/" || type == "proc" || type == "sysfs" || type == "devtmpfs" ||
                type == "devpts" || (type == "tmpfs" && (target == "/run" || target == "/dev/shm")))
                continue;
            (void)::umount2(target.c_str(), MNT_DETACH);
        }
    }
    (void)::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY, nullptr);
    ::sync();
}

}  // namespace sv
