#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer and the database exists; starts or installs them on a
# developer's machine when they are local and missing. Quiet when all is well.
set -euo pipefail

cd "$(dirname "$0")/.."

if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

fail() {
    echo "ensure-services: $*" >&2
    exit 1
}

say() {
    echo "ensure-services: $*"
}

# The same URLs the settings will use: environment first, then .env, then the defaults of
# config/settings/base.py.
addresses=$(
    "$PYTHON" - <<'PY'
import os
from urllib.parse import urlsplit

try:
    import environ

    environ.Env.read_env(".env", overwrite=False)
except ImportError:
    pass

database = urlsplit(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/haven")
redis = urlsplit(os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0")
print(
    database.hostname or "-",
    database.port or 5432,
    redis.hostname or "127.0.0.1",
    redis.port or 6379,
)
PY
) || fail "DATABASE_URL or REDIS_URL cannot be read as a URL (see the error above); correct it."
read -r DB_HOST DB_PORT REDIS_HOST REDIS_PORT <<<"$addresses"

is_local() {
    [[ "$1" == "127.0.0.1" || "$1" == "localhost" || "$1" == "::1" || "$1" == "-" ]]
}

answers() {
    # A plain TCP connection: enough to know that a server listens, and needs no client tools.
    local host=$1 port=$2
    [[ "$host" == "-" ]] && return 0 # a Unix socket: the database step below will tell
    timeout 2 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null
}

wait_for() {
    local host=$1 port=$2
    for _ in $(seq 1 30); do
        answers "$host" "$port" && return 0
        sleep 1
    done
    return 1
}

# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh

postgres_version() {
    { ls /etc/postgresql 2>/dev/null || true; } | sort -V | tail -n 1
}

ensure_postgres() {
    answers "$DB_HOST" "$DB_PORT" && return 0
    is_local "$DB_HOST" || fail "PostgreSQL does not answer at $DB_HOST:$DB_PORT; start it or set DATABASE_URL to a server that answers."
    local freshly_installed=false
    if ! command -v pg_ctlcluster >/dev/null || [[ -z "$(postgres_version)" ]]; then
        may_apt_install || fail "PostgreSQL does not answer at 127.0.0.1:$DB_PORT and is not installed; install and start it (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL to a server that answers."
        say "installing PostgreSQL (apt-get install postgresql)..."
        apt_install postgresql
        freshly_installed=true
    fi
    local version
    version=$(postgres_version)
    if [[ $freshly_installed == true ]]; then
        # A new development server: let local TCP connections in as `postgres` without a
        # password, as DATABASE_URL's default expects. Never done to an existing server.
        local hba="/etc/postgresql/$version/main/pg_hba.conf"
        as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
    fi
    if as_root pg_ctlcluster --skip-systemctl-redirect "$version" main status >/dev/null 2>&1; then
        fail "PostgreSQL $version is running but does not answer at 127.0.0.1:$DB_PORT; set DATABASE_URL to its port (pg_lsclusters shows it)."
    fi
    say "starting PostgreSQL $version..."
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start \
        || fail "PostgreSQL $version is installed but could not be started (pg_ctlcluster $version main start); start it yourself or set DATABASE_URL."
    wait_for "$DB_HOST" "$DB_PORT" || fail "PostgreSQL was started but does not answer at 127.0.0.1:$DB_PORT; check its port or set DATABASE_URL."
}

ensure_redis() {
    answers "$REDIS_HOST" "$REDIS_PORT" && return 0
    is_local "$REDIS_HOST" || fail "Redis does not answer at $REDIS_HOST:$REDIS_PORT; start it or set REDIS_URL to a server that answers."
    if ! command -v redis-server >/dev/null; then
        may_apt_install || fail "Redis does not answer at 127.0.0.1:$REDIS_PORT and is not installed; install and start it (Debian/Ubuntu: apt-get install redis-server) or set REDIS_URL to a server that answers."
        say "installing Redis (apt-get install redis-server)..."
        apt_install redis-server
        # The package may have started a server itself.
        answers "$REDIS_HOST" "$REDIS_PORT" && return 0
    fi
    say "starting Redis on 127.0.0.1:$REDIS_PORT..."
    # Nothing to persist: Redis only carries the task queue and the cache on a development
    # machine.
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >/dev/null
    wait_for "$REDIS_HOST" "$REDIS_PORT" || fail "Redis was started but does not answer at 127.0.0.1:$REDIS_PORT; check its log."
}

ensure_database() {
    "$PYTHON" - <<'PY' || exit 1
import os
import sys
from urllib.parse import unquote, urlsplit, urlunsplit

try:
    import environ

    environ.Env.read_env(".env", overwrite=False)
except ImportError:
    pass
try:
    import psycopg
    from psycopg import sql
except ImportError:
    sys.exit("ensure-services: psycopg is missing; run `make run` or `make test`, which install it.")

url = urlsplit(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/haven")
name = unquote(url.path.lstrip("/")) or "haven"
# Connect to the maintenance database with the same credentials to create ours.
maintenance = urlunsplit(url._replace(scheme="postgresql", path="/postgres"))
try:
    with psycopg.connect(maintenance, autocommit=True, connect_timeout=5) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"ensure-services: created database {name}")
except psycopg.Error as error:
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    sys.exit(
        f"ensure-services: cannot connect to PostgreSQL or create database {name} "
        f"({first_line}); check DATABASE_URL."
    )
PY
}

ensure_postgres
ensure_redis
ensure_database
