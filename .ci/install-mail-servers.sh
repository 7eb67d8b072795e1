#!/usr/bin/env bash
# Install Dovecot (IMAP + LMTP) and Postfix for mailbot's loopback test servers (mailbot/dev/devserver.py), on Debian 12.
# Idempotent: does nothing when they are installed. The system daemons are left stopped: the tests start their own
# instances from a config in a test directory and must not find ports 25/143 taken.
set -euo pipefail

packages=(dovecot-imapd dovecot-lmtpd postfix)

installed() {
    local package
    for package in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$' || return 1
    done
}

if installed; then
    echo "mail servers already installed: ${packages[*]}"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "run as root (apt-get install)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# "No configuration": no /etc/postfix/main.cf, so the system Postfix has nothing to run (devserver passes -c DIR).
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

# Keep the packages' maintainer scripts from starting the system daemons (policy-rc.d exit 101 = "not allowed"),
# unless the image already has a policy of its own.
own_policy=no
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=yes
fi
remove_own_policy() {
    if [ "$own_policy" = yes ]; then rm -f /usr/sbin/policy-rc.d; fi
}
trap remove_own_policy EXIT

install() {
    apt-get install -y --no-install-recommends "${packages[@]}"
}
# apt-get update only when needed: it is the slow part and the package lists are usually fresh enough on CI images
install || { apt-get update && install; }

# Belt and braces: on a machine where a daemon was started anyway (systemd, an old policy), stop and disable it.
for service in dovecot postfix; do
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        systemctl disable --now "$service" >/dev/null 2>&1 || true
    elif command -v service >/dev/null; then
        service "$service" stop >/dev/null 2>&1 || true
    fi
done

echo "installed: ${packages[*]}"
