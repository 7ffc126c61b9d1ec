#!/usr/bin/env python3
"""hot_text.py: write cmake/hot-text.ld, the linker script that gathers the
code a running supervisor executes into one run of pages.

Why: the kernel maps a file-backed page of text in 64 KiB windows on a fault
("fault-around"). A static binary's 1.2 MB of text touched here and there by
start-up, one spawn and the loop maps nearly all of it: 1.1 MB of the idle
supervisor's 1.4 MB Pss, and a page fault per window at every start. The code
actually run is about 270 KB, C library included. Placed together, it is a
few windows.

Input, from bench/hot_text.sh: for each build profiled (the static and the
Release binary), the binary, the linker's map of it (-Wl,-Map) and callgrind
profiles of it (valgrind --demangle=no); objects whose every function is to
be hot (code callgrind does not see: the child side of a spawn runs in a
process Valgrind does not follow). --check BINARY tells whether a build's
layout took (a ctest test).

Output: one input-section rule per hot section, in a SECTIONS block inserted
before .text (GNU ld's INSERT: the default script stays). A rule that
matches nothing is harmless, so the list only ages: code added later lands in
.text as before. Rules for our code name the section of the function with a
trailing '*' (LTO's .lto_priv.N, .constprop.N suffixes vary between builds);
library members are named by archive and member; every variant of a string
function that the C library picks at run time by CPU (-sse2, -avx2, -evex...)
is taken when one of them was hot, since Valgrind's CPU is not the host's.
"""
import bisect
import re
import subprocess
import sys

# Run at every start but not seen by callgrind (before it takes over, or
# inside the C library's own start-up).
ALWAYS = ["*crt*.o(.text)", "*libc.a:dl-object.o(.text)", "*libc.a:dl-setup_hash.o(.text)",
          "*libc.a:libc_early_init.o(.text)"]

CPU_VARIANT = re.compile(r"^([a-z0-9_]+)-(sse2|ssse3|sse4|avx|avx2|avx512|evex|evex512)\b.*\.o$")


def touched_symbols(profiles):
    names = set()
    for path in profiles:
        with open(path, errors="replace") as f:
            for line in f:
                m = re.match(r"^c?fn=\(\d+\) (\S+)", line)
                if m:
                    names.add(m.group(1))
    return names


def function_addresses(binary):
    """name -> addresses of the binary's functions (nm, once per binary)."""
    out = subprocess.run(["nm", binary], capture_output=True, text=True, check=True).stdout
    addrs = {}
    for line in out.splitlines():
        m = re.match(r"([0-9a-f]+) [tTwWiI] (\S+)", line)
        if m:
            addrs.setdefault(m.group(2), []).append(int(m.group(1), 16))
    return addrs


def text_input_sections(mapfile):
    """(address, size, section, file) of every input section of output .text."""
    lines = open(mapfile, errors="replace").read().splitlines()
    secs, in_text, i = [], False, 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"^\.text\s", line):
            in_text = True
        elif in_text and re.match(r"^\.\S", line):
            in_text = False
        if in_text:
            m = re.match(r"^ (\.text\S*)(?:\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(.*))?$", line)
            if m:
                if m.group(2) is None and i + 1 < len(lines):
                    i += 1
                    m2 = re.match(r"^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(.*)$", lines[i])
                    if not m2:
                        continue
                    addr, size, f = m2.groups()
                else:
                    addr, size, f = m.group(2), m.group(3), m.group(4)
                if addr is not None:
                    secs.append((int(addr, 16), int(size, 16), m.group(1), f.strip()))
        i += 1
    secs.sort()
    return secs


def rule_for(section, f):
    m = re.match(r".*/(lib[^/]*\.a)\((.*)\)$", f)
    if m:
        archive, member = m.groups()
        v = CPU_VARIANT.match(member)
        if v:
            return "*%s:%s-*.o(.text .text.*)" % (archive, v.group(1))
        return "*%s:%s(%s)" % (archive, member, section)
    m = re.match(r".*/(crt\w*\.o)$", f)
    if m:
        return "*%s(%s)" % (m.group(1), section)
    if section.startswith(".text.unlikely"):
        return None  # the cold part split off a hot function stays cold
    if section.startswith(".text."):
        name = section[len(".text."):].split(".")[0] if not section.startswith(".text.startup.") \
            else "startup." + section[len(".text.startup."):].split(".")[0]
        return "*(.text.%s*)" % name
    return None


def object_functions(objects):
    names = set()
    for obj in objects:
        out = subprocess.run(["nm", "--defined-only", obj], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            m = re.match(r"[0-9a-f]+ [tTW] (_ZN2sv\S+)", line)
            if m:
                names.add(m.group(1).split(".")[0])
    return names


# Functions every life of a supervisor runs: they must be in .text.hot.
CHECKED = ["main", "sv::start_child(", "sv::Supervisor::on_child_exit("]


def check(binary):
    """--check BINARY: the layout took (a test in ctest): .text.hot exists and
    holds the functions of CHECKED."""
    sections = subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True,
                              check=True).stdout
    m = re.search(r"\]\s+\.text\.hot\s+PROGBITS\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", sections)
    if not m:
        print("%s: no .text.hot section: cmake/hot-text.ld was not applied" % binary)
        return 1
    lo, hi = int(m.group(1), 16), int(m.group(1), 16) + int(m.group(2), 16)
    syms = subprocess.run(["nm", "-C", binary], capture_output=True, text=True, check=True).stdout
    bad, found = [], set()
    for line in syms.splitlines():
        f = line.split(" ", 2)
        if len(f) < 3 or f[1] not in "tTW" or "cold" in f[2]:
            continue  # a hot function's cold part stays in .text
        for name in CHECKED:
            if f[2] == name or (name.endswith("(") and f[2].startswith(name)):
                found.add(name)
                if not lo <= int(f[0], 16) < hi:
                    bad.append(f[2])
    missing = [n for n in CHECKED if n not in found]
    for name in bad:
        print("%s: %s lies outside .text.hot" % (binary, name))
    for name in missing:
        print("%s: no function %s to check" % (binary, name))
    if bad or missing:
        print("(renamed or new hot code: regenerate cmake/hot-text.ld with bench/hot_text.sh,"
              " or update CHECKED in bench/hot_text.py)")
        return 1
    print("%s: .text.hot holds %s (%d bytes)" % (binary, ", ".join(CHECKED), hi - lo))
    return 0


def parse_args(argv):
    """OUT [--object OBJ]... --build BINARY MAP PROFILE... [--build ...]"""
    out, objects, builds = argv[1], [], []
    i = 2
    while i < len(argv):
        if argv[i] == "--object" and i + 1 < len(argv):
            objects.append(argv[i + 1])
            i += 2
        elif argv[i] == "--build" and i + 3 < len(argv):
            j = i + 3
            while j < len(argv) and not argv[j].startswith("--"):
                j += 1
            builds.append((argv[i + 1], argv[i + 2], argv[i + 3:j]))
            i = j
        else:
            raise ValueError(argv[i])
    if not builds:
        raise ValueError("no --build")
    return out, objects, builds


def main(argv):
    if len(argv) == 3 and argv[1] == "--check":
        return check(argv[2])
    try:
        out, objects, builds = parse_args(argv)
    except (ValueError, IndexError):
        sys.stderr.write("usage: hot_text.py OUT [--object OBJ]... --build BINARY MAP PROFILE..."
                         " [--build BINARY MAP PROFILE...]\n"
                         "       hot_text.py --check BINARY\n")
        return 2
    # Several builds (the static one and the Release one inline differently:
    # a function inlined in one is a section of its own in the other), each
    # profiled the same ways. Profile by profile, in the order given, each
    # build's in turn: the first one's code first (the plainest life,
    # `run -- CMD`), then what each next one adds, so a supervisor that only
    # does the first touches the fewest pages.
    rules, hot_bytes = list(ALWAYS), 0
    layouts = []
    for binary, mapfile, profiles in builds:
        secs = text_input_sections(mapfile)
        layouts.append((function_addresses(binary), secs, [s[0] for s in secs], profiles, set()))
    for n in range(max(len(b[2]) for b in builds)):
        for functions, secs, starts, profiles, seen in layouts:
            if n >= len(profiles):
                continue
            chosen = {}
            touched = touched_symbols([profiles[n]])
            for a in (a for name in touched for a in functions.get(name, [])):
                k = bisect.bisect_right(starts, a) - 1
                if k >= 0 and secs[k][0] <= a < secs[k][0] + secs[k][1] and k not in seen:
                    chosen[k] = secs[k]
            for k in sorted(chosen):
                seen.add(k)
                addr, size, section, f = chosen[k]
                r = rule_for(section, f)
                if r and r not in rules:
                    rules.append(r)
                    hot_bytes += size
            sys.stderr.write("hot_text: %s: %d bytes so far\n" % (profiles[n], hot_bytes))
        if n == 0:
            for name in sorted(object_functions(objects)):
                r = "*(.text.%s*)" % name
                if r not in rules:
                    rules.append(r)
    with open(out, "w") as o:
        o.write("/* Generated by bench/hot_text.sh (bench/hot_text.py): the sections of the\n"
                "   code a running supervisor executes, gathered before the rest of .text so\n"
                "   that they share a few pages. Stale rules match nothing; regenerate after\n"
                "   large changes (docs/performance.md, fourth pass). */\n")
        o.write("SECTIONS\n{\n  .text.hot :\n  {\n")
        for r in rules:
            o.write("    %s\n" % r)
        o.write("  }\n}\nINSERT BEFORE .text;\n")
    sys.stderr.write("hot_text: %d rules, %d bytes of hot sections in the profiled builds\n"
                     % (len(rules), hot_bytes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
