# shadowai %post (rpm). $1: how many versions of the package are installed now (1: a first install).
if command -v systemd-sysusers >/dev/null 2>&1; then
    systemd-sysusers shadowai.conf || :
elif ! getent group shadowai >/dev/null; then
    groupadd --system shadowai || :
fi
if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create shadowai.conf || :
fi
if command -v journalctl >/dev/null 2>&1; then
    journalctl --update-catalog || :
fi
if [ "$1" -eq 1 ] && command -v systemctl >/dev/null 2>&1; then
    systemctl enable shadowaid.service >/dev/null 2>&1 || :
fi
# Only when systemd runs this system (not in a chroot or an image build). The shipped configuration
# enforces nothing: detection only.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -eq 1 ]; then
        systemctl start shadowaid.service || :
    else
        systemctl try-restart shadowaid.service || :
    fi
fi
