# CPack: the .deb and the .rpm from the install rules (`cpack -G DEB`, `cpack -G RPM`, or both by
# default from the build directory). Included from the top-level CMakeLists.txt after every
# install rule, since CPack reads the variables of that scope.

set(CPACK_GENERATOR "DEB;RPM")
set(CPACK_PACKAGE_NAME "shadowai")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "shadowai")
set(CPACK_PACKAGE_CONTACT "shadowai developers <shadowai@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Finds and governs LLM API calls on Linux worker hosts (eBPF + local TLS proxy)")
set(CPACK_PACKAGE_DESCRIPTION
    "shadowai watches every outbound connection with eBPF on cgroup socket hooks and reports which
workloads call which hosted LLM APIs (shadowai-scan, and shadowaid continuously into journald).
In enforce mode, chosen cgroups or systemd units have their LLM calls redirected to the host's
own TLS-terminating proxy, which masks secrets and personal data in prompts and streamed
answers, blocks disallowed prompts, swaps in managed API keys and records every call.")
set(CPACK_PACKAGING_INSTALL_PREFIX "${CMAKE_INSTALL_PREFIX}")
# Binaries without their debug sections: the packages are for hosts, not for debugging.
set(CPACK_STRIP_FILES ON)
# Paths are fixed: the unit, the binaries and the configuration name each other.
set(CPACK_PACKAGE_RELOCATABLE OFF)
set(CPACK_PACKAGE_CHECKSUM SHA256)

# --- .deb -------------------------------------------------------------------------------------
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
# Library dependencies from dpkg-shlibdeps; the rest by hand: systemd runs the unit, sysusers and
# tmpfiles; ca-certificates is the trust store the proxy verifies providers with.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd, ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# The conffiles list is generated: dpkg wants the absolute paths of the files under /etc it must keep.
string(JOIN "\n" SHADOWAI_CONFFILES_TEXT ${SHADOWAI_CONFFILES})
file(WRITE "${CMAKE_BINARY_DIR}/packaging/deb/conffiles" "${SHADOWAI_CONFFILES_TEXT}\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/deb/postinst;${PROJECT_SOURCE_DIR}/packaging/deb/prerm;${PROJECT_SOURCE_DIR}/packaging/deb/postrm;${CMAKE_BINARY_DIR}/packaging/deb/conffiles")

# --- .rpm -------------------------------------------------------------------------------------
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_RELEASE 1)
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
set(CPACK_RPM_PACKAGE_LICENSE "LicenseRef-shadowai")
# Library Requires come from rpm's own dependency generator (AutoReq); these are the rest.
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
set(CPACK_RPM_PACKAGE_REQUIRES "systemd, ca-certificates")
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE "${PROJECT_SOURCE_DIR}/packaging/rpm/post.sh")
set(CPACK_RPM_PRE_UNINSTALL_SCRIPT_FILE "${PROJECT_SOURCE_DIR}/packaging/rpm/preun.sh")
set(CPACK_RPM_POST_UNINSTALL_SCRIPT_FILE "${PROJECT_SOURCE_DIR}/packaging/rpm/postun.sh")
set(SHADOWAI_RPM_CONFIG)
foreach(conffile ${SHADOWAI_CONFFILES})
  list(APPEND SHADOWAI_RPM_CONFIG "%config(noreplace) ${conffile}")
endforeach()
set(CPACK_RPM_USER_FILELIST ${SHADOWAI_RPM_CONFIG})
# Directories other packages own (filesystem, systemd, bash-completion, man): not ours to list.
list(APPEND CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
     /usr/sbin /usr/lib/systemd /usr/lib/systemd/system /usr/lib/systemd/catalog /usr/lib/sysusers.d
     /usr/lib/tmpfiles.d /usr/share/bash-completion /usr/share/bash-completion/completions
     /usr/share/man /usr/share/man/man8 /usr/share/doc)
# No separate debuginfo package; the binaries are stripped.
set(CPACK_RPM_DEBUGINFO_PACKAGE OFF)
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none")

include(CPack)
