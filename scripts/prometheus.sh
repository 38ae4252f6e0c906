#!/usr/bin/env bash
# A Prometheus on loopback for tests and CI (Debian's `prometheus` package; .ci/run installs it):
#
#   scripts/prometheus.sh --dir DIR --port PORT [--target HOST:PORT/PATH]... [--interval 15s]
#                         [--job NAME] [--backfill FILE] [--retention 100y] [--exit-with-parent]
#
# or the same through the environment: PROMETHEUS_DIR, PROMETHEUS_PORT, PROMETHEUS_TARGETS
# (space-separated), PROMETHEUS_INTERVAL, PROMETHEUS_JOB, PROMETHEUS_BACKFILL,
# PROMETHEUS_RETENTION; PROMETHEUS and PROMTOOL name the binaries (default: from PATH).
#
# - DIR holds the generated prometheus.yml and the TSDB (DIR/data); it is created if missing.
# - PORT: the caller picks a free one; Prometheus listens on 127.0.0.1:PORT only.
# - Each --target is scraped every --interval (its timeout is the interval too). Targets with the
#   same path make one job (--job, default `sdd`; further paths `sdd-2`, `sdd-3`, …).
# - --backfill FILE: OpenMetrics text with timestamps (ending in `# EOF`, each series' samples in
#   time order) written into DIR/data as blocks by `promtool tsdb create-blocks-from openmetrics`
#   before Prometheus starts (it loads blocks only at start). The retention (default 100y) is
#   kept long so old backfilled samples are not deleted at once; blocks may overlap, which
#   Prometheus 2.39+ merges at query time.
# - --exit-with-parent: Prometheus is stopped when the process that started this script exits,
#   even by SIGKILL (a test runner killed mid-test leaves nothing behind); checked every second.
#
# Once /-/ready answers, prints Prometheus' URL (http://127.0.0.1:PORT) on stdout, the only line
# it prints there; everything else goes to stderr. Prometheus runs in the foreground in place of
# this script (exec): the caller owns it under this script's PID and process group, and stops it
# with SIGTERM. If it is not ready within PROMETHEUS_READY_SECONDS (default 60), it is stopped
# and the script exits non-zero.
set -euo pipefail

dir="${PROMETHEUS_DIR:-}"
port="${PROMETHEUS_PORT:-}"
read -r -a targets <<<"${PROMETHEUS_TARGETS:-}"
interval="${PROMETHEUS_INTERVAL:-15s}"
job="${PROMETHEUS_JOB:-sdd}"
backfill="${PROMETHEUS_BACKFILL:-}"
retention="${PROMETHEUS_RETENTION:-100y}"
ready_seconds="${PROMETHEUS_READY_SECONDS:-60}"
exit_with_parent=0
prometheus="${PROMETHEUS:-prometheus}"
promtool="${PROMTOOL:-promtool}"

usage() {
  echo "usage: $0 --dir DIR --port PORT [--target HOST:PORT/PATH]... [--interval 15s] [--job NAME] [--backfill FILE] [--retention 100y] [--exit-with-parent]" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="${2:?--dir needs a directory}"; shift 2 ;;
    --port) port="${2:?--port needs a port}"; shift 2 ;;
    --target) targets+=("${2:?--target needs HOST:PORT/PATH}"); shift 2 ;;
    --interval) interval="${2:?--interval needs a duration (15s)}"; shift 2 ;;
    --job) job="${2:?--job needs a name}"; shift 2 ;;
    --backfill) backfill="${2:?--backfill needs an OpenMetrics file}"; shift 2 ;;
    --retention) retention="${2:?--retention needs a duration (100y)}"; shift 2 ;;
    --exit-with-parent) exit_with_parent=1; shift ;;
    -h | --help) usage ;;
    *) echo "prometheus.sh: unknown argument $1" >&2; usage ;;
  esac
done

[ -n "$dir" ] || { echo "prometheus.sh: --dir (or PROMETHEUS_DIR) is required" >&2; usage; }
if ! [[ "$port" =~ ^[0-9]+$ ]] || [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
  echo "prometheus.sh: --port (or PROMETHEUS_PORT) must be a port number, not '$port'" >&2
  usage
fi
[[ "$interval" =~ ^[0-9]+(ms|s|m|h)$ ]] || { echo "prometheus.sh: --interval is a duration like 15s, not '$interval'" >&2; exit 2; }
[[ "$retention" =~ ^[0-9]+(h|d|w|y)$ ]] || { echo "prometheus.sh: --retention is a duration like 100y, not '$retention'" >&2; exit 2; }
[[ "$job" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "prometheus.sh: --job is letters, digits, _ . -, not '$job'" >&2; exit 2; }
for tool in "$prometheus" "$promtool"; do
  command -v "$tool" >/dev/null || {
    echo "prometheus.sh: $tool not found: apt-get install prometheus (Debian; promtool comes with it)" >&2
    exit 127
  }
done

mkdir -p "$dir/data"
dir="$(cd "$dir" && pwd)"

# prometheus.yml: one job per distinct metrics path.
paths=()
declare -A path_targets=()
address_re='^[][A-Za-z0-9.:_-]+:[0-9]+$'
for target in "${targets[@]}"; do
  target="${target#http://}"
  address="${target%%/*}"
  if [ "$address" = "$target" ]; then path=/metrics; else path="/${target#*/}"; fi
  if ! [[ "$address" =~ $address_re ]] || [[ "$path" =~ [\'[:space:]] ]]; then
    echo "prometheus.sh: a target is HOST:PORT or HOST:PORT/PATH, not '$target'" >&2
    exit 2
  fi
  if [ -z "${path_targets[$path]+set}" ]; then
    paths+=("$path")
    path_targets[$path]=""
  fi
  path_targets[$path]+="'$address', "
done
{
  echo "# Written by scripts/prometheus.sh."
  echo "global:"
  echo "  scrape_interval: $interval"
  echo "  scrape_timeout: $interval"
  echo "  evaluation_interval: $interval"
  if [ ${#paths[@]} -eq 0 ]; then echo "scrape_configs: []"; else echo "scrape_configs:"; fi
  n=0
  for path in "${paths[@]}"; do
    n=$((n + 1))
    name="$job"
    [ "$n" -eq 1 ] || name="$job-$n"
    echo "  - job_name: '$name'"
    echo "    metrics_path: '$path'"
    echo "    static_configs:"
    echo "      - targets: [${path_targets[$path]%, }]"
  done
} >"$dir/prometheus.yml"
"$promtool" check config "$dir/prometheus.yml" >&2

if [ -n "$backfill" ]; then
  [ -r "$backfill" ] || { echo "prometheus.sh: cannot read the backfill file $backfill" >&2; exit 2; }
  echo "prometheus.sh: backfilling $backfill into $dir/data" >&2
  "$promtool" tsdb create-blocks-from openmetrics "$backfill" "$dir/data" >&2
fi

main=$$
# Readiness: poll /-/ready (bash's /dev/tcp, no curl needed), then print the URL.
(
  probe() {
    (
      exec 3<>"/dev/tcp/127.0.0.1/$port"
      printf 'GET /-/ready HTTP/1.0\r\nHost: 127.0.0.1:%s\r\n\r\n' "$port" >&3
      IFS= read -r -t 5 status <&3
      [[ "$status" =~ ^HTTP/1\.[01]\ 200 ]]
    ) 2>/dev/null
  }
  deadline=$((SECONDS + ready_seconds))
  until probe; do
    kill -0 "$main" 2>/dev/null || exit 1
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "prometheus.sh: Prometheus was not ready on 127.0.0.1:$port within $ready_seconds s; stopping it" >&2
      kill "$main" 2>/dev/null
      exit 1
    fi
    sleep 0.2
  done
  echo "http://127.0.0.1:$port"
) &

if [ "$exit_with_parent" = 1 ]; then
  parent=$PPID
  (
    while kill -0 "$parent" 2>/dev/null && kill -0 "$main" 2>/dev/null; do sleep 1; done
    kill "$main" 2>/dev/null
  ) </dev/null >/dev/null 2>&1 &
fi

exec "$prometheus" \
  --config.file="$dir/prometheus.yml" \
  --storage.tsdb.path="$dir/data" \
  --storage.tsdb.retention.time="$retention" \
  --web.listen-address="127.0.0.1:$port" \
  --log.level="${PROMETHEUS_LOG_LEVEL:-warn}"
