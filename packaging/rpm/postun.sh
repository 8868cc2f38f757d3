# shadowai %postun (rpm). $1: versions left (0: erased). rpm has no purge: /var/lib/shadowai (the
# local CA, the pseudonym key, the enforce modes) stays after an erase; remove it by hand if wanted.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
if [ "$1" -eq 0 ]; then
    rm -rf /run/shadowai
    if command -v journalctl >/dev/null 2>&1; then
        journalctl --update-catalog || :
    fi
fi
