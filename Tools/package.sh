#!/usr/bin/env bash
# Debian packages of QuantFleet, made with dpkg-deb alone: quantfleet-agent, quantfleet-coordinator
# and quantfleet (the CLI), each a stripped binary with the Swift runtime linked in
# (--static-swift-stdlib), and for the daemons a configuration template in /etc/quantfleet, a state
# folder in /var/lib/quantfleet, the `quantfleet` system user and a hardened systemd unit
# (Deploy/debian/). Depends are the packages that own the shared libraries each binary loads.
#
#   Tools/package.sh [--out DIR] [--no-build] [--debug]
#
# Release builds in .build-release (a clean one takes as long again as the debug build). --debug
# packages the debug build in .build instead: the Swift runtime stays a shared library from the
# toolchain, so such packages run only where the toolchain is; CI installs them to test the
# packaging itself (Tools/test-packages.sh) without a second full build.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/.build-packages
CONFIGURATION=release
BUILD=1
while [[ $# -gt 0 ]]; do
    case $1 in
        --out) OUT=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --debug) CONFIGURATION=debug; shift ;;
        *) echo "package: unknown option '$1'" >&2; exit 64 ;;
    esac
done
PRODUCTS=(quantfleet-agent quantfleet-coordinator quantfleet)
if [[ $CONFIGURATION == release ]]; then
    SCRATCH=.build-release
    if [[ $BUILD == 1 ]]; then
        for product in "${PRODUCTS[@]}"; do
            swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --product "$product" >/dev/null
        done
    fi
else
    SCRATCH=.build
    if [[ $BUILD == 1 ]]; then swift build >/dev/null; fi
fi
BIN=$ROOT/$SCRATCH/$CONFIGURATION
# xz for what ships; gzip for the debug packages the tests make and throw away (xz takes minutes on them).
COMPRESSION=xz
[[ $CONFIGURATION == release ]] || COMPRESSION=gzip
VERSION=$(sed -n 's/.*static let version = "\(.*\)"/\1/p' Sources/Agent/AgentApp.swift)
ARCH=$(dpkg --print-architecture)
[[ -n $VERSION ]] || { echo "package: no release version in Sources/Agent/AgentApp.swift" >&2; exit 1; }
mkdir -p "$OUT"

# The packages owning the shared libraries `binary` names (NEEDED; what those load comes with their
# own packages), as a Depends list; libraries no package owns (a toolchain's, in a debug build) are
# left out.
depends() {
    local needed
    needed=$(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
    ldd "$1" | awk '/=> \// {print $1, $3}' | while read -r name library; do
        grep -qx "$name" <<< "$needed" || continue
        dpkg -S "$(readlink -f "$library")" 2>/dev/null || dpkg -S "$library" 2>/dev/null || true
    done | cut -d: -f1 | sort -u | while read -r package; do
        version=$(dpkg-query -W -f '${Version}' "$package" | sed 's/-[^-]*$//')
        echo "$package (>= $version)"
    done | paste -sd, | sed 's/,/, /g'
}

# package NAME SUMMARY DESCRIPTION [ROLE]: ROLE (agent, coordinator) adds the daemon's files.
package() {
    local name=$1 summary=$2 description=$3 role=${4:-}
    local stage
    stage=$(mktemp -d)
    install -d "$stage/DEBIAN" "$stage/usr/bin" "$stage/usr/share/doc/$name"
    install -m 0755 "$BIN/$name" "$stage/usr/bin/$name"
    strip --strip-unneeded "$stage/usr/bin/$name"
    install -m 0644 README.md "$stage/usr/share/doc/$name/README.md"
    : > "$stage/DEBIAN/conffiles"
    if [[ -n $role ]]; then
        install -d "$stage/etc/quantfleet" "$stage/lib/systemd/system"
        install -m 0640 "Deploy/debian/etc/$role.yaml" "$stage/etc/quantfleet/$role.yaml"
        echo "/etc/quantfleet/$role.yaml" >> "$stage/DEBIAN/conffiles"
        if [[ $role == coordinator ]]; then
            install -m 0640 Config/policy.yaml "$stage/etc/quantfleet/policy.yaml"
            echo /etc/quantfleet/policy.yaml >> "$stage/DEBIAN/conffiles"
        fi
        install -m 0644 "Deploy/debian/systemd/$name.service" "$stage/lib/systemd/system/$name.service"
        for script in postinst prerm postrm; do
            sed "s/@ROLE@/$role/g" "Deploy/debian/maintainer/$script" > "$stage/DEBIAN/$script"
            chmod 0755 "$stage/DEBIAN/$script"
        done
    fi
    [[ -s $stage/DEBIAN/conffiles ]] || rm "$stage/DEBIAN/conffiles"
    cat > "$stage/DEBIAN/control" <<CONTROL
Package: $name
Version: $VERSION
Architecture: $ARCH
Maintainer: QuantFleet <quantfleet@localhost>
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: $(depends "$BIN/$name")${role:+, passwd}
Section: science
Priority: optional
Homepage: https://github.com/quantfleet/quantfleet
Description: $summary
 $description
CONTROL
    dpkg-deb --root-owner-group "-Z$COMPRESSION" --build "$stage" "$OUT/${name}_${VERSION}_${ARCH}.deb" >/dev/null
    rm -rf "$stage"
    echo "$OUT/${name}_${VERSION}_${ARCH}.deb $(stat -c %s "$OUT/${name}_${VERSION}_${ARCH}.deb") bytes, installed $(dpkg-deb -f "$OUT/${name}_${VERSION}_${ARCH}.deb" Installed-Size) KiB"
}

package quantfleet-agent "QuantFleet agent: safe quantized-model rollouts on edge devices" \
    "Serves a device's models over the Open Inference Protocol (REST and gRPC), runs candidate INT8 and INT4 models in shadow on live traffic, and streams paired results to the coordinator over mutual TLS." \
    agent
package quantfleet-coordinator "QuantFleet coordinator: staged rollouts of quantized models" \
    "Pushes signed candidate models to agents, keeps the shadow-accuracy ledger (SQLite or PostgreSQL), and promotes, holds or rolls back each stage by policy." \
    coordinator
package quantfleet "QuantFleet command line: rollouts, ledgers, quantization" \
    "Operates a QuantFleet fleet through the coordinator's admin API, reads ledgers, quantizes and checks ONNX models, and runs the fleet-in-a-box demo."
