# shadowai %preun (rpm). $1: versions left after this one goes (0: the package is being erased).
if [ "$1" -eq 0 ]; then
    if [ -d /run/systemd/system ]; then
        systemctl stop shadowaid.service || :
    fi
    if command -v systemctl >/dev/null 2>&1; then
        systemctl disable shadowaid.service >/dev/null 2>&1 || :
    fi
    # Enforcement outlives the daemon in pinned BPF links: without the daemon it would leave enforced
    # workloads' connections failing, so the erase takes it down.
    /usr/sbin/shadowaid --remove-pins >/dev/null 2>&1 || :
fi
