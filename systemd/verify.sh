#!/bin/sh
# Check systemd/mailbot.service without installing anything: `systemd-analyze verify` in a throw-away root (the
# system's units, a stub /opt/mailbot/.venv/bin/mailbot), failing on any warning; then the sandbox's exposure
# score (`systemd-analyze security --offline=yes`, systemd >= 250). Usage: sh systemd/verify.sh [UNIT-FILE]
set -eu
unit=${1:-$(dirname "$0")/mailbot.service}
root=$(mktemp -d /tmp/mailbot-verify-XXXXXX)
trap 'rm -rf "$root"' EXIT INT TERM

units=/usr/lib/systemd/system
[ -d "$units" ] || units=/lib/systemd/system
mkdir -p "$root/usr/lib/systemd" "$root/etc/systemd/system" "$root/opt/mailbot/.venv/bin"
cp -a "$units" "$root/usr/lib/systemd/"
printf '#!/bin/sh\n' > "$root/opt/mailbot/.venv/bin/mailbot"
chmod 755 "$root/opt/mailbot/.venv/bin/mailbot"
cp "$unit" "$root/etc/systemd/system/mailbot.service"

# verify's exit code ignores unknown keys and unparsable values: any output at all is a failure here.
output=$(systemd-analyze verify --man=no --generators=no --root="$root" mailbot.service 2>&1) && status=0 || status=$?
if [ "$status" -ne 0 ] || [ -n "$output" ]; then
    printf '%s\n' "$output"
    echo "systemd-analyze verify: FAILED" >&2
    exit 1
fi
echo "systemd-analyze verify: OK ($(systemd-analyze --version | head -n 1))"
systemd-analyze security --offline=yes --no-pager "$unit" | tail -n 1
