// The ACPI power button, for the supervisor as a VM's init.
//
// Clouds, `virsh shutdown` and QEMU's `system_powerdown` ask a VM to stop by
// pressing its ACPI power button. That never reaches PID 1 as a signal: the
// kernel's `button` driver turns it into a KEY_POWER key press on an input
// device, which the `evdev` driver exposes as /dev/input/eventN (Debian builds
// both as modules) for systemd-logind or acpid to read. Without them, the supervisor reads it
// itself and treats it as SIGTERM (the wiring is in shell.cc).
//
// Active only for the machine's init: getpid() == 1 and the initial PID
// namespace (a container's PID 1 must not react to the host's button, even
// with the host's /dev). Input devices are found at start under /dev/input
// and, since /dev is often mounted and the modules loaded only by a first
// oneshot service, again on every kernel uevent that adds an input
// event device (a NETLINK_KOBJECT_UEVENT socket; no polling). A device
// qualifies when EVIOCGBIT reports EV_KEY with the KEY_POWER capability.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

struct ev_loop;

namespace sv {

class PowerButton {
  public:
    PowerButton(struct ev_loop* loop, std::function<void()> on_press);
    ~PowerButton();
    PowerButton(const PowerButton&) = delete;
    PowerButton& operator=(const PowerButton&) = delete;

    // Opens the uevent socket and the devices present now. Returns false
    // when nothing could be watched at all.
    bool start();

    struct Device;
    struct Uevent;

  private:
    void scan_dev_input();
    void try_open(const std::string& path);
    void on_uevent();
    void on_device(Device& d);
    void close_device(Device& d);

    struct ev_loop* loop_;
    std::function<void()> on_press_;
    std::unique_ptr<Uevent> uevent_;
    std::vector<std::unique_ptr<Device>> devices_;
};

// When surely_machine_init() (mounts.h): a started PowerButton that calls `on_press` on
// every KEY_POWER press. Otherwise nullptr.
std::unique_ptr<PowerButton> watch_power_button(struct ev_loop* loop,
                                                std::function<void()> on_press);

}  // namespace sv
