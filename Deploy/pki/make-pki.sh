#!/usr/bin/env bash
# Creates (or completes) the PKI of one QuantFleet fleet with openssl.
#
#   make-pki.sh DIR [--ca-name NAME] [--coordinator-dns NAME ...] [--operator NAME] [--revoke NAME ...] agent-id ...
#
#   DIR/ca.pem, DIR/ca.key                        fleet CA (kept if it already exists)
#   DIR/coordinator.pem, DIR/coordinator.key      server certificate, DNS SANs (default: localhost)
#   DIR/agents/<id>.pem, DIR/agents/<id>.key      client certificate, CN <id>, SAN URI quantfleet:agent:<id>
#   DIR/operators/operator.pem, .key              client certificate, CN operator:<name> (default name: admin)
#   DIR/signing.key, DIR/signing.pub.pem          Ed25519 key the coordinator signs model manifests with
#                                                 (kept if it exists); agents are given the public half
#   DIR/crl.pem                                   the CA's revocation list, signed anew on every run (valid
#                                                 30 days: run the script again before then); the daemons'
#                                                 `tls: crl:` reads it and reloads it when it changes
#   DIR/index.txt, DIR/crlnumber, DIR/serial      openssl's CA database, so revocations accumulate
#                                                 (created on first use, also in a PKI made before it existed)
#
# --revoke NAME revokes the certificate now at agents/NAME.pem, or coordinator.pem for `coordinator`, or
# operators/operator.pem for `operator`. A revoked leaf is no longer current, so it is issued anew on this
# run (the coordinator and operator always; an agent when its id is also listed): revoke and re-key at once.
#
# Idempotent: an existing CA is never replaced, and an existing leaf certificate is kept while it
# still verifies against that CA (and, for the coordinator, lists the requested DNS names).
# Coordinator certificates carry DNS names only: a client accepts any server certificate whose IP SAN
# matches the connected address, whatever hostname it expected, so IP SANs would defeat name checks.
# Agent ids cannot contain ':', so no agent CN can ever collide with an "operator:<name>" CN.
set -euo pipefail

readonly ID_PATTERN='^[A-Za-z0-9._-]+$'
readonly DNS_PATTERN='^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$'
readonly CA_DAYS=3650
readonly LEAF_DAYS=825
readonly CRL_DAYS=30

usage() {
    echo "usage: $(basename "$0") DIR [--ca-name NAME] [--coordinator-dns NAME ...] [--operator NAME] [--revoke NAME ...] agent-id ..." >&2
    exit 64
}

fail() {
    echo "make-pki: $*" >&2
    exit 65
}

[[ $# -ge 1 ]] || usage
[[ $1 != -* ]] || usage
DIR=$1
shift

CA_NAME="QuantFleet Fleet CA"
OPERATOR_NAME="admin"
COORDINATOR_DNS=()
AGENT_IDS=()
REVOKE=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --ca-name)
            [[ $# -ge 2 && -n $2 ]] || fail "--ca-name needs a name"
            CA_NAME=$2; shift 2 ;;
        --coordinator-dns)
            [[ $# -ge 2 ]] || fail "--coordinator-dns needs a DNS name"
            [[ $2 =~ $DNS_PATTERN ]] || fail "coordinator DNS name '$2' is not a DNS name (letters, digits, '.', '-'); IP addresses are refused on purpose, see the header of this script"
            [[ ! $2 =~ ^[0-9.]+$ ]] || fail "coordinator DNS name '$2' is an IP address; issue a DNS name and map it in /etc/hosts instead"
            COORDINATOR_DNS+=("$2"); shift 2 ;;
        --operator)
            [[ $# -ge 2 ]] || fail "--operator needs a name"
            [[ $2 =~ $ID_PATTERN ]] || fail "operator name '$2' is invalid: use only letters, digits, '.', '_' and '-'"
            OPERATOR_NAME=$2; shift 2 ;;
        --revoke)
            [[ $# -ge 2 ]] || fail "--revoke needs an agent id, 'coordinator' or 'operator'"
            [[ $2 =~ $ID_PATTERN ]] || fail "--revoke name '$2' is invalid: use only letters, digits, '.', '_' and '-'"
            REVOKE+=("$2"); shift 2 ;;
        -*)
            fail "unknown option '$1'" ;;
        *)
            [[ $1 =~ $ID_PATTERN ]] || fail "agent id '$1' is invalid: use only letters, digits, '.', '_' and '-' (it becomes the certificate CN and a file name)"
            AGENT_IDS+=("$1"); shift ;;
    esac
done
[[ ${#COORDINATOR_DNS[@]} -gt 0 ]] || COORDINATOR_DNS=(localhost)

mkdir -p "$DIR/agents" "$DIR/operators"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Private keys are created under umask 077 so they are never readable by others, even briefly.
make_key() {
    (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null)
    chmod 600 "$1"
}

random_serial() {
    echo "0x$(openssl rand -hex 16)"
}

# make_leaf BASE CN EXTENSIONS: writes BASE.key and BASE.pem signed by the fleet CA.
make_leaf() {
    local base=$1 cn=$2 extensions=$3
    make_key "$base.key"
    openssl req -new -key "$base.key" -subj "/CN=$cn" -out "$WORK/leaf.csr"
    printf '%s\n' "$extensions" \
        "basicConstraints = critical, CA:FALSE" \
        "keyUsage = critical, digitalSignature" \
        "subjectKeyIdentifier = hash" \
        "authorityKeyIdentifier = keyid" > "$WORK/leaf.ext"
    openssl x509 -req -in "$WORK/leaf.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" \
        -set_serial "$(random_serial)" -days "$LEAF_DAYS" -sha256 \
        -extfile "$WORK/leaf.ext" -out "$base.pem" 2>/dev/null
    echo "issued $base.pem (CN $cn)"
}

# A leaf is kept only if both files exist and the certificate still verifies against the CA and
# its current CRL (so a revoked leaf is issued anew).
leaf_is_current() {
    local base=$1
    [[ -f $base.pem && -f $base.key ]] &&
        openssl verify -CAfile "$DIR/ca.pem" -CRLfile "$DIR/crl.pem" -crl_check "$base.pem" >/dev/null 2>&1
}

# openssl ca needs a configuration file; this one only names the database, the CA and the CRL's terms.
ca_config() {
    local abs
    abs=$(cd "$DIR" && pwd)
    printf '%s\n' "[ca]" "default_ca = fleet" "[fleet]" \
        "database = $abs/index.txt" "crlnumber = $abs/crlnumber" "serial = $abs/serial" \
        "certificate = $abs/ca.pem" "private_key = $abs/ca.key" \
        "default_md = sha256" "default_crl_days = $CRL_DAYS" "unique_subject = no" \
        "crl_extensions = crl_extensions" "[crl_extensions]" "authorityKeyIdentifier = keyid" > "$WORK/ca.cnf"
}

# The CA database is created on first use, so PKI folders made before revocation existed keep working.
ensure_ca_database() {
    [[ -f $DIR/index.txt ]] || : > "$DIR/index.txt"
    [[ -f $DIR/crlnumber ]] || echo 1000 > "$DIR/crlnumber"
    [[ -f $DIR/serial ]] || openssl rand -hex 16 > "$DIR/serial"
}

# revoke NAME: adds the certificate to the database as revoked (openssl ca adds one it did not issue).
revoke() {
    local name=$1 file
    case $name in
        coordinator) file=$DIR/coordinator.pem ;;
        operator) file=$DIR/operators/operator.pem ;;
        *) file=$DIR/agents/$name.pem ;;
    esac
    [[ ! ( $name == coordinator || $name == operator ) || ! -f $DIR/agents/$name.pem ]] ||
        fail "--revoke $name is ambiguous: there is also an agent named $name"
    [[ -f $file ]] || fail "--revoke $name: no certificate at $file"
    openssl ca -config "$WORK/ca.cnf" -revoke "$file" 2>"$WORK/revoke.err" ||
        grep -qi "already revoked" "$WORK/revoke.err" ||
        fail "openssl could not revoke $file: $(cat "$WORK/revoke.err")"
    echo "revoked $file (serial $(openssl x509 -in "$file" -noout -serial | cut -d= -f2))"
}

write_crl() {
    openssl ca -config "$WORK/ca.cnf" -gencrl -out "$DIR/crl.pem" 2>"$WORK/crl.err" ||
        fail "openssl could not sign the CRL: $(cat "$WORK/crl.err")"
}

if [[ -f $DIR/ca.pem && -f $DIR/ca.key ]]; then
    echo "keeping existing CA $DIR/ca.pem"
elif [[ -f $DIR/ca.pem || -f $DIR/ca.key ]]; then
    fail "$DIR holds only one of ca.pem and ca.key; restore the other or remove both to start a new fleet"
else
    make_key "$DIR/ca.key"
    openssl req -x509 -new -key "$DIR/ca.key" -subj "/CN=$CA_NAME" -days "$CA_DAYS" -sha256 \
        -set_serial "$(random_serial)" \
        -addext "basicConstraints = critical, CA:TRUE, pathlen:0" \
        -addext "keyUsage = critical, keyCertSign, cRLSign" \
        -addext "subjectKeyIdentifier = hash" \
        -out "$DIR/ca.pem"
    echo "issued $DIR/ca.pem (CN $CA_NAME)"
fi

ca_config
ensure_ca_database
for name in "${REVOKE[@]}"; do revoke "$name"; done
write_crl
echo "signed $DIR/crl.pem ($(grep -c '^R' "$DIR/index.txt") revoked)"

dns_sans=$(printf 'DNS:%s,' "${COORDINATOR_DNS[@]}")
dns_sans=${dns_sans%,}
existing_sans=$(openssl x509 -in "$DIR/coordinator.pem" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' ' || true)
if leaf_is_current "$DIR/coordinator" && [[ $existing_sans == "$dns_sans" ]]; then
    echo "keeping $DIR/coordinator.pem"
else
    make_leaf "$DIR/coordinator" "coordinator" \
        "extendedKeyUsage = serverAuth
subjectAltName = $dns_sans"
fi

if [[ -f $DIR/signing.key ]]; then
    echo "keeping model-signing key $DIR/signing.key"
else
    (umask 077 && openssl genpkey -algorithm ed25519 -out "$DIR/signing.key" 2>/dev/null)
    openssl pkey -in "$DIR/signing.key" -pubout -out "$DIR/signing.pub.pem"
    echo "issued model-signing key $DIR/signing.key (public half $DIR/signing.pub.pem)"
fi

if leaf_is_current "$DIR/operators/operator"; then
    echo "keeping $DIR/operators/operator.pem"
else
    make_leaf "$DIR/operators/operator" "operator:$OPERATOR_NAME" \
        "extendedKeyUsage = clientAuth
subjectAltName = URI:quantfleet:operator:$OPERATOR_NAME"
fi

for id in "${AGENT_IDS[@]}"; do
    if leaf_is_current "$DIR/agents/$id"; then
        echo "keeping $DIR/agents/$id.pem"
    else
        make_leaf "$DIR/agents/$id" "$id" \
            "extendedKeyUsage = clientAuth
subjectAltName = URI:quantfleet:agent:$id"
    fi
done
