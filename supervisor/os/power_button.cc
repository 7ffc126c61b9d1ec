// The ACPI power button as SIGTERM for a VM's init: see power_button.h.
#include "power_button.h"

#include <dirent.h>
#include <ev.h>
#include <fcntl.h>
#include <linux/input.h>
#include <linux/netlink.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "mounts.h"
#include "oops.h"

namespace sv {

namespace {

constexpr std::size_t kBitsPerLong = 8 * sizeof(unsigned long);

bool test_bit(const unsigned long* bits, unsigned bit) {
    return (bits[bit / kBitsPerLong] >> (bit % kBitsPerLong)) & 1UL;
}

// Does the input device on `fd` report EV_KEY events with KEY_POWER?
bool has_power_key(int fd) {
    unsigned long ev_bits[(EV_MAX + kBitsPerLong) / kBitsPerLong] = {};
    if (::ioctl(fd, EVIOCGBIT(0, sizeof ev_bits), ev_bits) < 0) return false;
    if (!test_bit(ev_bits, EV_KEY)) return false;
    unsigned long key_bits[(KEY_MAX + kBitsPerLong) / kBitsPerLong] = {};
    if (::ioctl(fd, EVIOCGBIT(EV_KEY, sizeof key_bits), key_bits) < 0) return false;
    return test_bit(key_bits, KEY_POWER);
}

}  // namespace

struct PowerButton::Device {
    ev_io io;
    PowerButton* owner;
    dev_t rdev;
    std::string path;
};

struct PowerButton::Uevent {
    ev_io io;
    PowerButton* owner;
};

PowerButton::PowerButton(struct ev_loop* loop, std::function<void()> on_press)
    : loop_(loop), on_press_(std::move(on_press)) {}

PowerButton::~PowerButton() {
    for (auto& d : devices_) {
        ev_io_stop(loop_, &d->io);
        ::close(d->io.fd);
    }
    if (uevent_) {
        ev_io_stop(loop_, &uevent_->io);
        ::close(uevent_->io.fd);
    }
}

bool PowerButton::start() {
    int fd =
        ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
    if (fd >= 0) {
        struct sockaddr_nl addr = {};
        addr.nl_family = AF_NETLINK;
        addr.nl_groups = 1;  // the kernel's own uevents (udev re-broadcasts on 2)
        if (::bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) == 0) {
            uevent_ = std::make_unique<Uevent>();
            uevent_->owner = this;
            ev_io_init(
                &uevent_->io,
                [](struct ev_loop*, ev_io* w, int) noexcept {
                    try {
                        static_cast<Uevent*>(w->data)->owner->on_uevent();
                    } catch (...) {
                        oops("reading a uevent");  // this message is dropped
                    }
                },
                fd, EV_READ);
            uevent_->io.data = uevent_.get();
            ev_io_start(loop_, &uevent_->io);
        } else {
            ::close(fd);
        }
    }
    scan_dev_input();
    return uevent_ != nullptr || !devices_.empty();
}

void PowerButton::scan_dev_input() {
    DIR* dir = ::opendir("/dev/input");
    if (!dir) return;
    while (struct dirent* e = ::readdir(dir)) {
        if (std::strncmp(e->d_name, "event", 5) == 0)
            try_open(std::string("/dev/input/") + e->d_name);
    }
    ::closedir(dir);
}

void PowerButton::try_open(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (::fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || !has_power_key(fd)) {
        ::close(fd);
        return;
    }
    for (const auto& d : devices_) {
        if (d->rdev == st.st_rdev) {  // already watched (found by scan and uevent)
            ::close(fd);
            return;
        }
    }
    auto d = std::make_unique<Device>();
    d->owner = this;
    d->rdev = st.st_rdev;
    d->path = path;
    ev_io_init(
        &d->io,
        [](struct ev_loop*, ev_io* w, int) noexcept {
            auto* dev = static_cast<Device*>(w->data);
            try {
                dev->owner->on_device(*dev);
            } catch (...) {
                oops("reading the power button");
            }
        },
        fd, EV_READ);
    d->io.data = d.get();
    ev_io_start(loop_, &d->io);
    devices_.push_back(std::move(d));
}

void PowerButton::on_uevent() {
    char buf[8192];
    for (;;) {
        struct sockaddr_nl from = {};
        socklen_t len = sizeof from;
        ssize_t n = ::recvfrom(uevent_->io.fd, buf, sizeof buf - 1, 0,
                               reinterpret_cast<struct sockaddr*>(&from), &len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // EAGAIN, or ENOBUFS after an overflow: wait for the next one
        }
        if (from.nl_pid != 0) continue;  // only the kernel's messages
        buf[n] = '\0';
        // "add@/devices/...\0ACTION=add\0SUBSYSTEM=input\0DEVNAME=input/event0\0..."
        bool add = false, input = false;
        std::string devname;
        for (ssize_t i = 0; i < n;) {
            std::string_view field(buf + i);
            if (field == "ACTION=add")
                add = true;
            else if (field == "SUBSYSTEM=input")
                input = true;
            else if (field.substr(0, 8) == "DEVNAME=")
                devname = std::string(field.substr(8));
            i += static_cast<ssize_t>(field.size()) + 1;
        }
        if (add && input && devname.compare(0, 11, "input/event") == 0) {
            // devtmpfs creates the node before the uevent goes out.
            try_open("/dev/" + devname);
        }
    }
}

void PowerButton::on_device(Device& d) {
    struct input_event events[16];
    for (;;) {
        ssize_t n = ::read(d.io.fd, events, sizeof events);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) {         // ENODEV: the device went away
            close_device(d);  // destroys d
            return;
        }
        for (std::size_t i = 0; i < static_cast<std::size_t>(n) / sizeof events[0]; ++i) {
            const struct input_event& e = events[i];
            if (e.type == EV_KEY && e.code == KEY_POWER && e.value == 1) {
                try {
                    on_press_();
                } catch (...) {
                    oops("handling the power button");
                }
            }
        }
    }
}

void PowerButton::close_device(Device& d) {
    ev_io_stop(loop_, &d.io);
    ::close(d.io.fd);
    for (auto it = devices_.begin(); it != devices_.end(); ++it) {
        if (it->get() == &d) {
            devices_.erase(it);
            return;
        }
    }
}

std::unique_ptr<PowerButton> watch_power_button(struct ev_loop* loop,
                                                std::function<void()> on_press) {
    if (!surely_machine_init()) return nullptr;
    auto pb = std::make_unique<PowerButton>(loop, std::move(on_press));
    if (!pb->start()) return nullptr;
    return pb;
}

}  // namespace sv
