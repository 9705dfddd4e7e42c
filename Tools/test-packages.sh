#!/usr/bin/env bash
# The Debian packages, installed for real on this machine (run as root, where no QuantFleet package is
# installed): Tools/package.sh --debug from the debug build, then
#   dpkg -i; systemd-analyze verify on both units; each unit's ExecStart started as the packaged user
#   (runuser: these machines run no systemd) with the packaged paths against a test PKI, until the
#   agent serves and the coordinator counts it; SIGHUP rereads the TLS files without ending the
#   agent; an upgrade over itself keeps configuration and state; a purge removes them and the user.
# Exits non-zero at the first check that fails, naming it.
#
#   Tools/test-packages.sh [--build]     (without --build: packages the debug build already in .build)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=--no-build
[[ ${1:-} == --build ]] && BUILD=""
WORK=$(mktemp -d /tmp/quantfleet-packages.XXXXXX)
DAEMONS='^/usr/bin/quantfleet-(agent|coordinator) '
fail() { echo "FAILED: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }
stop_daemons() {
    pkill -TERM -f "$DAEMONS" || true
    for _ in $(seq 100); do pgrep -f "$DAEMONS" >/dev/null || return 0; sleep 0.1; done
    pkill -KILL -f "$DAEMONS" || true
}
cleanup() {
    stop_daemons
    dpkg --purge quantfleet-agent quantfleet-coordinator quantfleet >/dev/null 2>&1 || true
    rm -rf /etc/quantfleet/pki "$WORK"
    rmdir /etc/quantfleet 2>/dev/null || true
}

# It installs packages: as root, through sudo if need be.
[[ $(id -u) == 0 ]] || exec sudo "$0" "$@"
for package in quantfleet-agent quantfleet-coordinator quantfleet; do
    if dpkg-query -W -f '${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed; then
        fail "$package is installed already; this test would replace it"
    fi
done
trap cleanup EXIT

# shellcheck disable=SC2086
Tools/package.sh --debug $BUILD --out "$WORK/debs" | tee "$WORK/sizes"
dpkg -i "$WORK"/debs/*.deb >/dev/null || fail "dpkg -i"
getent passwd quantfleet >/dev/null || fail "the quantfleet system user exists"
[[ -x /usr/bin/quantfleet && -x /usr/bin/quantfleet-agent && -x /usr/bin/quantfleet-coordinator ]] || fail "the binaries are in /usr/bin"
[[ $(stat -c %U /var/lib/quantfleet/agent) == quantfleet ]] || fail "/var/lib/quantfleet/agent belongs to quantfleet"
ok "installed: three packages, the user, /etc/quantfleet and /var/lib/quantfleet"

for unit in quantfleet-agent quantfleet-coordinator; do
    systemd-analyze verify "/lib/systemd/system/$unit.service" > "$WORK/$unit.verify" 2>&1 \
        || fail "systemd-analyze verify $unit: $(cat "$WORK/$unit.verify")"
    for setting in NoNewPrivileges=yes ProtectSystem=strict PrivateTmp=yes "CapabilityBoundingSet=" Restart=on-failure \
                   "StateDirectory=quantfleet/${unit#quantfleet-}" "ExecReload=/bin/kill -HUP"; do
        grep -q "^$setting" "/lib/systemd/system/$unit.service" || fail "$unit.service sets $setting"
    done
done
grep -q '^MemoryMax=' /lib/systemd/system/quantfleet-agent.service || fail "the agent's unit sets MemoryMax"
ok "systemd-analyze verify passes both units, hardened"

# A test PKI where the templates look for it, readable by the daemons' group.
bash Deploy/pki/make-pki.sh "$WORK/pki" agent >/dev/null
install -d -o root -g quantfleet -m 0750 /etc/quantfleet/pki
for file in ca.pem crl.pem coordinator.pem coordinator.key signing.key signing.pub.pem; do
    install -o root -g quantfleet -m 0640 "$WORK/pki/$file" /etc/quantfleet/pki/
done
install -o root -g quantfleet -m 0640 "$WORK/pki/agents/agent.pem" /etc/quantfleet/pki/agent.pem
install -o root -g quantfleet -m 0640 "$WORK/pki/agents/agent.key" /etc/quantfleet/pki/agent.key
# The operator's edits: the coordinator on this machine.
sed -i -e 's/host: coordinator.example .*/host: 127.0.0.1/' -e 's/^coordinator-name: .*/coordinator-name: localhost/' \
    /etc/quantfleet/agent.yaml
sed -i 's/host: 0.0.0.0/host: 127.0.0.1/' /etc/quantfleet/coordinator.yaml

start() {   # start NAME: the unit's ExecStart as the unit's user, logging to $WORK/NAME.log
    local command
    command=$(sed -n 's/^ExecStart=//p' "/lib/systemd/system/$1.service")
    # shellcheck disable=SC2086
    runuser -u quantfleet -- $command >> "$WORK/$1.log" 2>&1 &
}
serving() {   # until the agent answers and the coordinator counts it
    for _ in $(seq 300); do
        if curl -sf http://127.0.0.1:8081/v2/health/live >/dev/null \
            && curl -sf http://127.0.0.1:9464/metrics | grep -Eq '^quantfleet_coordinator_agents_connected 1(\.0)?$'; then
            return 0
        fi
        sleep 0.2
    done
    return 1
}
start quantfleet-coordinator
start quantfleet-agent
serving || fail "the daemons serve as the packaged user: $(tail -n 5 "$WORK"/quantfleet-*.log)"
[[ $(ps -o user= -p "$(pgrep -f '^/usr/bin/quantfleet-agent ' | head -1)") == quantfleet ]] || fail "the agent runs as quantfleet"
ok "the units' ExecStart serve as quantfleet: the agent is live and connected to the coordinator"

kill -HUP "$(pgrep -f '^/usr/bin/quantfleet-agent ')"
for _ in $(seq 50); do grep -q "SIGHUP: certificate, key and CRL read again" "$WORK/quantfleet-agent.log" && break; sleep 0.1; done
grep -q "SIGHUP: certificate, key and CRL read again" "$WORK/quantfleet-agent.log" || fail "SIGHUP rereads the TLS files"
curl -sf http://127.0.0.1:8081/v2/health/live >/dev/null || fail "the agent serves on after SIGHUP"
ok "SIGHUP rereads the certificate, key and CRL, and the agent serves on"

stop_daemons
[[ -f /var/lib/quantfleet/coordinator/ledger.sqlite && -f /var/lib/quantfleet/agent/spool.sqlite ]] || fail "the daemons keep state in /var/lib/quantfleet"
LEDGER_BEFORE=$(sha256sum /var/lib/quantfleet/coordinator/ledger.sqlite)

dpkg -i --force-confold "$WORK"/debs/*.deb >/dev/null || fail "dpkg -i over itself"
[[ $(sha256sum /var/lib/quantfleet/coordinator/ledger.sqlite) == "$LEDGER_BEFORE" ]] || fail "the upgrade keeps the ledger"
[[ -f /var/lib/quantfleet/agent/spool.sqlite ]] || fail "the upgrade keeps the agent's spool"
grep -q '^coordinator-name: localhost' /etc/quantfleet/agent.yaml || fail "the upgrade keeps the edited agent.yaml"
start quantfleet-coordinator
start quantfleet-agent
serving || fail "the daemons serve after the upgrade"
stop_daemons
ok "an upgrade over itself keeps configuration and state, and the daemons serve again"

dpkg --remove quantfleet-agent >/dev/null || fail "dpkg --remove"
[[ -f /etc/quantfleet/agent.yaml && -d /var/lib/quantfleet/agent ]] || fail "a removal keeps the agent's configuration and state"
dpkg --purge quantfleet-agent quantfleet-coordinator quantfleet >/dev/null || fail "dpkg --purge"
for gone in /etc/quantfleet/agent.yaml /etc/quantfleet/coordinator.yaml /etc/quantfleet/policy.yaml /var/lib/quantfleet \
            /usr/bin/quantfleet-agent /lib/systemd/system/quantfleet-agent.service; do
    [[ ! -e $gone ]] || fail "the purge removes $gone"
done
! getent passwd quantfleet >/dev/null || fail "the purge removes the quantfleet user"
[[ -f /etc/quantfleet/pki/ca.pem ]] || fail "the purge keeps the operator's own certificates"
ok "a removal keeps configuration and state; a purge removes them and the user, and keeps the operator's PKI"
echo "packages:"
sed 's/^/  /' "$WORK/sizes"
