#!/usr/bin/env bash
# Bring up everything voc's end-to-end tests need, on Debian 12 as root:
#   - a Docker engine (Debian's docker.io, dockerd 20.10, API 1.41), started detached;
#   - a single-node swarm (manager, advertised on 127.0.0.1);
#   - the base image voc-test/busybox:latest, made locally from busybox-static
#     (no image can ever be pulled here);
#   - two local registries from Debian's docker-registry package:
#       127.0.0.1:5000  open
#       127.0.0.1:5001  htpasswd auth, user voc / password voc-secret
#     both plain HTTP (the daemon treats 127.0.0.0/8 as insecure registries);
#   - the same engine over TCP with mutual TLS on 127.0.0.1:2376, as a remote
#     engine is reached (DOCKER_HOST=tcp://127.0.0.1:2376, DOCKER_TLS_VERIFY=1,
#     DOCKER_CERT_PATH=/var/lib/voc-test/tls/client): a TLS-terminating stunnel
#     in front of the local socket, with certificates made here (socat cannot
#     serve it: it breaks TLS session resumption, which rustls uses);
#   - iproute2 and nsenter, with which the tests of several targets start a
#     second engine of their own (tests/second_engine.rs).
# Idempotent: when everything is already up it only checks, in about a second.
# Installs what is missing with apt-get. Exports nothing.
set -euo pipefail

readonly BASE_IMAGE=voc-test/busybox:latest
readonly STATE_DIR=/var/lib/voc-test
readonly DOCKERD_LOG=/var/log/voc-dockerd.log
readonly REG_USER=voc
readonly REG_PASSWORD=voc-secret

say() { printf 'engine-up: %s\n' "$*" >&2; }
die() { printf 'engine-up: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (it installs packages and starts dockerd)"

# One run at a time (several test runs may start together on one machine).
# fd 9 holds the lock; the daemons we start must not inherit it.
exec 9>/run/voc-engine-up.lock
flock -w 300 9 || die "another engine-up.sh has held /run/voc-engine-up.lock for 5 minutes"

# --- packages ---------------------------------------------------------------

readonly APT_LOG=/var/log/voc-apt.log
apt_updated=0
# ensure_pkgs PKG... : install the packages that dpkg does not report as installed
# (apt's chatter goes to $APT_LOG, shown when it fails).
ensure_pkgs() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    say "installing ${missing[*]} (log: $APT_LOG)"
    if ((apt_updated == 0)); then
        apt-get update >>"$APT_LOG" 2>&1 || { tail -n 20 "$APT_LOG" >&2; die "apt-get update failed"; }
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 \
        apt-get install -y --no-install-recommends "${missing[@]}" >>"$APT_LOG" 2>&1 ||
        { tail -n 20 "$APT_LOG" >&2; die "apt-get install ${missing[*]} failed"; }
}

# start_detached LOG PIDFILE CMD... : start CMD in its own session, immune to the
# script's end and to hang-ups, all three standard streams away from the caller.
start_detached() {
    local log=$1 pidfile=$2
    shift 2
    setsid nohup "$@" </dev/null >>"$log" 2>&1 9>&- &
    echo $! >"$pidfile"
}

# --- dockerd ------------------------------------------------------------------

engine_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# dockerd_alive : a dockerd process exists that is not a zombie (a killed
# dockerd can linger as a zombie for a while, and pgrep lists zombies too).
dockerd_alive() {
    local pid
    for pid in $(pgrep -x dockerd); do
        [[ $(ps -o stat= -p "$pid" 2>/dev/null) == [^Z]* ]] && return 0
    done
    return 1
}

if ! engine_answers; then
    command -v dockerd >/dev/null 2>&1 || ensure_pkgs docker.io
    # Start dockerd unless one is already on its way up; start it again (once)
    # if the one we waited for died, e.g. one that was being stopped.
    starts=0
    for ((i = 0; i < 120; i++)); do
        engine_answers && break
        if ! dockerd_alive && ((starts < 2)); then
            say "starting dockerd (log: $DOCKERD_LOG)"
            # The defaults work in this sandbox: overlay2 on ext4, iptables (nf_tables).
            start_detached "$DOCKERD_LOG" /run/voc-dockerd.pid dockerd
            starts=$((starts + 1))
        elif ((i == 0)); then
            say "dockerd is running but does not answer yet; waiting"
        fi
        sleep 0.5
    done
    if ! engine_answers; then
        tail -n 30 "$DOCKERD_LOG" >&2 || true
        die "dockerd did not answer within 60 s"
    fi
fi
docker_version=$(docker version --format '{{.Server.Version}}')

# --- swarm --------------------------------------------------------------------

swarm_state() { docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }

state=$(swarm_state)
# Right after dockerd starts, an existing swarm is "pending" for a moment.
for ((i = 0; i < 60; i++)); do
    [[ $state == active || $state == inactive ]] && break
    sleep 0.5
    state=$(swarm_state)
done
case $state in
    active) ;;
    inactive)
        say "initialising swarm"
        docker swarm init --advertise-addr 127.0.0.1 >/dev/null
        ;;
    *)
        say "swarm state is '$state'; leaving it and initialising a new one"
        docker swarm leave --force >/dev/null 2>&1 || true
        docker swarm init --advertise-addr 127.0.0.1 >/dev/null
        ;;
esac
[[ $(swarm_state) == active ]] || die "swarm is not active after init"

# --- base image -----------------------------------------------------------------

if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    ensure_pkgs busybox-static
    say "building $BASE_IMAGE from busybox-static"
    root=$(mktemp -d)
    trap 'rm -rf "$root"' EXIT
    mkdir -p "$root"/{bin,etc,tmp,root,usr}
    chmod 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $("$root/bin/busybox" --list); do
        [[ $applet == busybox ]] || ln -s busybox "$root/bin/$applet"
    done
    ln -s bin "$root/sbin"
    ln -s ../bin "$root/usr/bin"
    ln -s ../bin "$root/usr/sbin"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
    tar -C "$root" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["sh"]' - "$BASE_IMAGE" >/dev/null
    rm -rf "$root"
    trap - EXIT
fi

# --- registries -------------------------------------------------------------------

# http_status PORT [USER:PASSWORD] : status code of GET /v2/ on 127.0.0.1:PORT, 000 if none.
# Plain bash /dev/tcp, so no curl is needed.
http_status() {
    local port=$1 auth=${2:-} header="" code
    [[ -z $auth ]] || header="Authorization: Basic $(printf '%s' "$auth" | base64 -w0)"$'\r\n'
    code=$({
        exec 3<>"/dev/tcp/127.0.0.1/$port"
        printf 'GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n%s\r\n' "$port" "$header" >&3
        read -r -t 5 _ code _ <&3
        printf '%s' "$code"
    } 2>/dev/null) || true
    printf '%s' "${code:-000}"
}

# ensure_registry PORT AUTH(open|auth) EXPECTED_STATUS
ensure_registry() {
    local port=$1 mode=$2 expect=$3
    local dir=$STATE_DIR/registry-$port
    local conf=$dir/config.yml log=/var/log/voc-registry-$port.log pidfile=/run/voc-registry-$port.pid
    mkdir -p "$dir/data"

    local auth_block=""
    if [[ $mode == auth ]]; then
        if ! [[ -s $dir/htpasswd ]] || ! htpasswd -vb "$dir/htpasswd" "$REG_USER" "$REG_PASSWORD" >/dev/null 2>&1; then
            htpasswd -Bbn "$REG_USER" "$REG_PASSWORD" >"$dir/htpasswd"
        fi
        auth_block="auth:
  htpasswd:
    realm: voc-test
    path: $dir/htpasswd"
    fi
    local want
    want=$(cat <<EOF
# Written by scripts/engine-up.sh: voc test registry on 127.0.0.1:$port ($mode).
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: voc-test-registry-$port
$auth_block
EOF
)
    local restart=0
    if [[ ! -f $conf ]] || [[ $(cat "$conf") != "$want" ]]; then
        printf '%s\n' "$want" >"$conf"
        restart=1
    fi

    local auth_arg=""
    [[ $mode == auth ]] && auth_arg="$REG_USER:$REG_PASSWORD"
    if ((restart == 0)) && [[ $(http_status "$port") == "$expect" ]] &&
        [[ $(http_status "$port" "$auth_arg") == 200 ]]; then
        return 0
    fi

    # Stop our previous instance, if any (only the pid we recorded ourselves).
    if [[ -f $pidfile ]]; then
        local old
        old=$(cat "$pidfile")
        if [[ -n $old ]] && [[ $(cat "/proc/$old/comm" 2>/dev/null) == docker-registr* ]]; then
            kill "$old" 2>/dev/null || true
            for ((i = 0; i < 20; i++)); do kill -0 "$old" 2>/dev/null || break; sleep 0.25; done
        fi
    fi
    if [[ $(http_status "$port") != 000 ]]; then
        die "port $port is taken by something else: $(ss -ltnp "sport = :$port" 2>/dev/null | tail -n +2)"
    fi

    say "starting registry on 127.0.0.1:$port ($mode; log: $log)"
    start_detached "$log" "$pidfile" docker-registry serve "$conf"
    for ((i = 0; i < 40; i++)); do
        [[ $(http_status "$port") == "$expect" ]] && return 0
        sleep 0.25
    done
    tail -n 20 "$log" >&2 || true
    die "registry on 127.0.0.1:$port did not answer $expect on /v2/ within 10 s"
}

need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
if ((${#need[@]})); then
    ensure_pkgs "${need[@]}"
    # Debian's package ships a service on :5000 with its own config; where the
    # package's postinst managed to start it, stop it: ours take these ports.
    [[ ! -x /etc/init.d/docker-registry ]] || /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
fi

ensure_registry 5000 open 200
ensure_registry 5001 auth 401

# --- the engine over TCP with TLS -------------------------------------------

readonly TLS_DIR=$STATE_DIR/tls
readonly TLS_PORT=2376

# make_tls_certs : a CA, a server certificate for 127.0.0.1, and a client
# certificate in the layout DOCKER_CERT_PATH expects (ca.pem, cert.pem, key.pem).
make_tls_certs() {
    local d=$TLS_DIR
    rm -rf "$d" && mkdir -p "$d/client" && chmod 700 "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=voc-test-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -keyout "$d/ca-key.pem" -out "$d/ca.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout "$d/server-key.pem" -out "$d/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >"$d/server.ext"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial -days 3650 \
        -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj /CN=voc-test-client -keyout "$d/client/key.pem" -out "$d/client.csr" 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n' >"$d/client.ext"
    openssl x509 -req -in "$d/client.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial -days 3650 \
        -extfile "$d/client.ext" -out "$d/client/cert.pem" 2>/dev/null
    cp "$d/ca.pem" "$d/client/ca.pem"
    cat >"$d/stunnel.conf" <<CONF
; Written by scripts/engine-up.sh: the local engine over mutual TLS.
foreground = yes
pid =
[docker]
accept = 127.0.0.1:$TLS_PORT
connect = /var/run/docker.sock
cert = $d/server.pem
key = $d/server-key.pem
CAfile = $d/ca.pem
verifyChain = yes
requireCert = yes
CONF
}

tls_answers() {
    DOCKER_HOST=tcp://127.0.0.1:$TLS_PORT DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$TLS_DIR/client \
        docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

command -v stunnel >/dev/null 2>&1 || ensure_pkgs stunnel4
command -v openssl >/dev/null 2>&1 || ensure_pkgs openssl
# The tests of several targets start a second dockerd of their own, in a
# network namespace linked by a veth pair (tests/second_engine.rs).
command -v ip >/dev/null 2>&1 || ensure_pkgs iproute2
command -v nsenter >/dev/null 2>&1 || ensure_pkgs util-linux
if ! tls_answers; then
    [[ -f $TLS_DIR/stunnel.conf ]] || make_tls_certs
    pkill -f "stunnel $TLS_DIR/stunnel.conf" 2>/dev/null || true
    say "starting the TLS endpoint on 127.0.0.1:$TLS_PORT (log: /var/log/voc-tls.log)"
    start_detached /var/log/voc-tls.log /run/voc-tls.pid stunnel "$TLS_DIR/stunnel.conf"
    for _ in $(seq 50); do tls_answers && break; sleep 0.2; done
    tls_answers || { tail -n 20 /var/log/voc-tls.log >&2; die "the TLS endpoint on 127.0.0.1:$TLS_PORT did not answer"; }
fi

# Prove that the engine can push to both. The login uses a throw-away client
# config, so no credential ever lands in (or is removed from) /root/.docker.
probe=voc-test/engine-up-probe:latest
docker tag "$BASE_IMAGE" "127.0.0.1:5000/$probe"
docker tag "$BASE_IMAGE" "127.0.0.1:5001/$probe"
cleanup_probe() {
    docker rmi "127.0.0.1:5000/$probe" "127.0.0.1:5001/$probe" >/dev/null 2>&1 || true
    [[ -n ${probe_cfg:-} ]] && rm -rf "$probe_cfg"
}
probe_cfg=$(mktemp -d)
trap cleanup_probe EXIT
docker push -q "127.0.0.1:5000/$probe" >/dev/null || die "push to 127.0.0.1:5000 failed"
if DOCKER_CONFIG=$probe_cfg docker push -q "127.0.0.1:5001/$probe" >/dev/null 2>&1; then
    die "127.0.0.1:5001 accepted a push without credentials"
fi
printf '%s' "$REG_PASSWORD" | DOCKER_CONFIG=$probe_cfg docker login -u "$REG_USER" --password-stdin 127.0.0.1:5001 >/dev/null 2>&1 ||
    die "docker login to 127.0.0.1:5001 failed"
DOCKER_CONFIG=$probe_cfg docker push -q "127.0.0.1:5001/$probe" >/dev/null || die "authenticated push to 127.0.0.1:5001 failed"
DOCKER_CONFIG=$probe_cfg docker logout 127.0.0.1:5001 >/dev/null
cleanup_probe
trap - EXIT

printf '%s\n' "engine up: docker $docker_version, swarm active, registries 127.0.0.1:5000 (open) and 127.0.0.1:5001 (auth $REG_USER/$REG_PASSWORD), TLS endpoint tcp://127.0.0.1:$TLS_PORT (certs in $TLS_DIR/client)"
