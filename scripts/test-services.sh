# Sourced by scripts/test.sh: installs (Debian packages, when root) and starts what the
# tests need. A service that cannot be had leaves its variable unset, and the tests that
# need it are skipped with that reason printed; under CI=true a missing service fails.

ZOO2TF_PG_DIR=""
ZOO2TF_PG_PORT=${ZOO2TF_PG_PORT:-54329}

_apt_install() {
    [ "$(id -u)" = 0 ] || return 1
    command -v apt-get >/dev/null 2>&1 || return 1
    if [ ! -f /tmp/.zoo2tf-apt-updated ]; then
        apt-get update -qq >/dev/null 2>&1 && touch /tmp/.zoo2tf-apt-updated
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1
}

_pg_bindir() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

start_postgres() {
    local bindir
    bindir=$(_pg_bindir)
    if [ -z "$bindir" ]; then
        _apt_install postgresql || true
        bindir=$(_pg_bindir)
    fi
    if [ -z "$bindir" ]; then
        echo "zoo2tf tests: PostgreSQL unavailable (not installed, cannot install)" >&2
        return 1
    fi
    ZOO2TF_PG_DIR=$(mktemp -d /tmp/zoo2tf-pg.XXXXXX)
    local run=()
    if [ "$(id -u)" = 0 ]; then
        chown postgres:postgres "$ZOO2TF_PG_DIR"
        run=(runuser -u postgres --)
    fi
    "${run[@]}" "$bindir/initdb" -D "$ZOO2TF_PG_DIR/data" -U postgres -A trust >/dev/null
    "${run[@]}" "$bindir/pg_ctl" -D "$ZOO2TF_PG_DIR/data" -l "$ZOO2TF_PG_DIR/log" -w \
        -o "-p $ZOO2TF_PG_PORT -k $ZOO2TF_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    "${run[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$ZOO2TF_PG_PORT" -U postgres zoo2tf_test
    export ZOO2TF_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$ZOO2TF_PG_PORT/zoo2tf_test"
}

start_chromium() {
    if ! command -v chromium >/dev/null 2>&1; then
        _apt_install chromium fonts-dejavu-core || true
    fi
    if command -v chromium >/dev/null 2>&1; then
        export ZOO2TF_TEST_CHROMIUM="$(command -v chromium)"
    else
        echo "zoo2tf tests: chromium unavailable (not installed, cannot install)" >&2
        return 1
    fi
}

start_test_services() {
    local ok=0
    start_postgres || ok=1
    start_chromium || ok=1
    if [ "$ok" != 0 ] && [ "${CI:-}" = true ]; then
        echo "zoo2tf tests: a service the tests need could not be started under CI" >&2
        return 1
    fi
    return 0
}

stop_test_services() {
    if [ -n "$ZOO2TF_PG_DIR" ] && [ -d "$ZOO2TF_PG_DIR/data" ]; then
        local run=()
        [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
        "${run[@]}" "$(_pg_bindir)/pg_ctl" -D "$ZOO2TF_PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
        rm -rf "$ZOO2TF_PG_DIR"
    fi
}
