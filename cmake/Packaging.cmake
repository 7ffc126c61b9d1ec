# Packaging: the static build's size options, install() rules and CPack's
# Debian package. Included at the end of the top-level CMakeLists.txt, after
# the targets exist. See docs/deploy.md.

include(GNUInstallDirs)

# --- Size options (every build) --------------------------------------------------
# toml++ is told to use <charconv> for floats and to leave out its formatters:
# both otherwise pull in iostreams and the whole std::locale machinery (about
# 400 KiB), and every build (tests included: PUBLIC) parses with the same
# code as the shipped one.
# Section garbage collection drops what nothing calls. A smaller executable
# is fewer pages to map and fault in at start and to tear down at exit:
# with both, the Release binary's text went from 1.97 to 1.55 MB and its
# spawn and SIGTERM -> exit rows gained about 10 % (docs/performance.md).
target_compile_definitions(supervisor_core PUBLIC TOML_FLOAT_CHARCONV=1 TOML_ENABLE_FORMATTERS=0)
foreach(t supervisor_core supervisor_os supervisor_cli supervisor_bin)
  target_compile_options(${t} PRIVATE -ffunction-sections -fdata-sections)
endforeach()
target_link_options(supervisor_bin PRIVATE -Wl,--gc-sections)

# --- Hot text ------------------------------------------------------------------
# cmake/hot-text.ld places the code a running supervisor executes (start-up,
# a spawn, the loop, a stop: about 270 KB of our code, libstdc++'s and the C
# library's) together ahead of the rest of .text. The kernel maps text in
# 64 KiB windows per page fault, so code run here and there mapped nearly
# all of the static binary's 1.2 MB of text: with the script, the idle
# static supervisor's Pss went from 1.39 to 0.75 MB and a start took 97 ->
# 86 page faults (docs/performance.md, fourth pass). bench/hot_text.sh
# regenerates the list from callgrind profiles; a rule that matches nothing
# is harmless, so a stale list only places new code as before. LTO output
# keeps one section per function only when told so at link time.
option(SUPERVISOR_HOT_TEXT "Gather the executed code with cmake/hot-text.ld" ON)
option(SUPERVISOR_LINK_MAP "Write the linker's map to supervisor.map (bench/hot_text.sh)" OFF)
target_link_options(supervisor_bin PRIVATE -ffunction-sections -fdata-sections)
if(SUPERVISOR_HOT_TEXT)
  include(CheckLinkerFlag)
  set(_sv_hot_text ${PROJECT_SOURCE_DIR}/cmake/hot-text.ld)
  # GNU ld's INSERT keeps the default script; a linker without it is told
  # nothing and lays the code out as before.
  check_linker_flag(CXX "-Wl,-T,${_sv_hot_text}" SUPERVISOR_LINKER_TAKES_HOT_TEXT)
  if(SUPERVISOR_LINKER_TAKES_HOT_TEXT)
    target_link_options(supervisor_bin PRIVATE "-Wl,-T,${_sv_hot_text}")
    set_property(TARGET supervisor_bin APPEND PROPERTY LINK_DEPENDS ${_sv_hot_text})
    if(SUPERVISOR_TESTS)
      # The layout took: the functions every run executes lie in .text.hot.
      find_package(Python3 COMPONENTS Interpreter)
      if(Python3_FOUND)
        add_test(NAME hot_text_layout
                 COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/bench/hot_text.py --check
                         $<TARGET_FILE:supervisor_bin>)
        set_tests_properties(hot_text_layout PROPERTIES LABELS layout TIMEOUT 60)
      endif()
    endif()
  endif()
endif()
if(SUPERVISOR_LINK_MAP)
  target_link_options(supervisor_bin PRIVATE "-Wl,-Map,${CMAKE_BINARY_DIR}/supervisor.map")
endif()

# --- LTO ---------------------------------------------------------------------
# The static build (any build type) and the shipped dynamic ones (Release:
# the .deb; MinSizeRel) are linked with LTO: whole-program inlining and
# dead-code removal. Debug and RelWithDebInfo (the tests) are not, to keep
# their builds fast.
include(CheckIPOSupported)
check_ipo_supported(RESULT _sv_ipo OUTPUT _sv_ipo_msg LANGUAGES CXX)
if(NOT _sv_ipo)
  message(STATUS "supervisor: LTO not available: ${_sv_ipo_msg}")
endif()
set(_sv_targets supervisor_core supervisor_os supervisor_cli supervisor_bin)

# --- Static build ------------------------------------------------------------
# -DSUPERVISOR_STATIC=ON links one self-contained file (glibc static, libev.a,
# toml++ header-only) for container images and initramfs. Its size matters
# there most, so it also gets LTO.
if(SUPERVISOR_STATIC)
  # Pins NSS to the sources a static glibc has built in (files, dns) before
  # the first lookup; see supervisor/os/name_service.h.
  target_compile_definitions(supervisor_os PRIVATE SUPERVISOR_STATIC_NSS=1)
  if(_sv_ipo)
    set_target_properties(${_sv_targets} PROPERTIES INTERPROCEDURAL_OPTIMIZATION ON)
  endif()
elseif(_sv_ipo)
  set_target_properties(${_sv_targets} PROPERTIES INTERPROCEDURAL_OPTIMIZATION_RELEASE ON
                                                  INTERPROCEDURAL_OPTIMIZATION_MINSIZEREL ON)
endif()

# --- Install layout ------------------------------------------------------------
#   bin/supervisor                                (install(TARGETS) in CMakeLists.txt)
#   share/man/man8/supervisor.8.gz                (hand-written roff, docs/man/)
#   share/man/man5/supervisor.toml.5.gz
#   share/doc/supervisor/supervisor.toml.example  (CMAKE_INSTALL_DOCDIR)
find_program(SUPERVISOR_GZIP gzip)
set(_sv_man_pages supervisor.8 supervisor.toml.5)
set(_sv_man_outputs)
foreach(page ${_sv_man_pages})
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section "${page}")
  set(src ${PROJECT_SOURCE_DIR}/docs/man/${page})
  if(SUPERVISOR_GZIP)
    # -n: no name or time stamp in the header, so the .deb is reproducible.
    set(out ${CMAKE_BINARY_DIR}/man/${page}.gz)
    add_custom_command(OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
      COMMAND ${CMAKE_COMMAND} -E copy ${src} ${CMAKE_BINARY_DIR}/man/${page}
      COMMAND ${SUPERVISOR_GZIP} -9nf ${CMAKE_BINARY_DIR}/man/${page}
      DEPENDS ${src} VERBATIM)
  else()
    set(out ${src})
  endif()
  list(APPEND _sv_man_outputs ${out})
  install(FILES ${out} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(man_pages ALL DEPENDS ${_sv_man_outputs})

install(FILES ${PROJECT_SOURCE_DIR}/supervisor.toml.example
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# --- Debian package (cpack -G DEB) --------------------------------------------
# Named supervisor-init: Debian's own "supervisor" package is supervisord.
# The two share no file (supervisord installs /usr/bin/supervisord,
# supervisorctl, pidproxy and man1/supervisor.1), so no Conflicts/Replaces.
# packaging/deb/build-and-check.sh builds, installs and removes it.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME supervisor-init)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "supervisor maintainers <supervisor@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "small process supervisor for containers (PID 1), VMs (/init) and development")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "Starts services in dependency order, reaps zombies, forwards signals,
 drains and stops in reverse order on SIGTERM and serves a health endpoint
 (/livez, /readyz, /status, /metrics). Usable as a container ENTRYPOINT,
 as the /init of a systemd-less VM, or as `supervisor run` in a terminal.")
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES ON)
if(SUPERVISOR_STATIC)
  # One self-contained file: no run-time dependency at all.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
else()
  # libc6, libev4, libstdc++6, libgcc-s1, computed by dpkg-shlibdeps.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
include(CPack)

# --- Packaging tests (ctest) ----------------------------------------------------
# tests/container: the static binary as PID 1 of a PID + mount namespace
# (a few seconds). tests/vm: boots an initramfs under QEMU (see tests/vm/run.sh).
option(SUPERVISOR_CONTAINER_TEST "Register tests/container in ctest (static build, root)"
       ${SUPERVISOR_STATIC})
option(SUPERVISOR_VM_TEST "Register tests/vm in ctest (static build, root, QEMU, a kernel)" OFF)
if(SUPERVISOR_CONTAINER_TEST OR SUPERVISOR_VM_TEST)
  enable_testing()
endif()
if(SUPERVISOR_CONTAINER_TEST)
  add_subdirectory(tests/container)
endif()
if(SUPERVISOR_VM_TEST)
  add_subdirectory(tests/vm)
endif()
