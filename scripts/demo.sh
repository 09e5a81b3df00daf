#!/usr/bin/env bash
# `make demo`: the product-web example against a local AWS emulator (moto server on
# 127.0.0.1 and a free port): synth, plan, apply, outputs, plan again (must show no
# changes), status, destroy.
# The emulator's install (pip, network-bound) runs beside the first build (CPU-bound).
# The emulator is stopped on exit whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

moto=.venv/bin/moto_server
${MAKE:-make} --no-print-directory moto &
install_pid=$!
# `cargo run` finds the binary wherever the target directory is (CARGO_TARGET_DIR,
# build.target-dir).
cargo build --quiet --example product-web
wait "$install_pid" || { echo "installing the emulator (make moto) failed" >&2; exit 1; }
[ -x "$moto" ] || { echo "moto is not installed: run 'make moto'" >&2; exit 1; }
port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log=$(mktemp)
MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_ECS_SERVICE_RUNNING=2 "$moto" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; rm -f "$log"' EXIT

up=no
for _ in $(seq 1 150); do
  if .venv/bin/python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/data.json', timeout=1)" 2>/dev/null; then
    up=yes
    break
  fi
  sleep 0.2
done
[ "$up" = yes ] || { echo "the emulator did not answer on 127.0.0.1:$port within 30 s; its log:" >&2; cat "$log" >&2; exit 1; }

# The demo shows the example as declared: knobs from the environment (ECS_KIT_COUNT,
# ...) would change it, and the emulator's running-task count is set to its 2 per service.
unset $(env | sed -n 's/^\(ECS_KIT_[A-Z_]*\)=.*/\1/p')
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
endpoint="http://127.0.0.1:$port"

step() {
  printf '\n\033[1m$ product-web %s\033[0m\n' "$*"
  timeout 900 cargo run --quiet --example product-web -- "$@"
}

echo "AWS emulator (moto) on $endpoint"
step synth
step --endpoint-url "$endpoint" plan
step --endpoint-url "$endpoint" apply --auto-approve
step --endpoint-url "$endpoint" outputs
set +e
step --endpoint-url "$endpoint" plan --detailed-exitcode
code=$?
set -e
echo "plan --detailed-exitcode exited $code"
[ "$code" -eq 0 ] || { echo "an apply must leave nothing to change (exit 0), got $code" >&2; exit 1; }
step --endpoint-url "$endpoint" status
step --endpoint-url "$endpoint" destroy --auto-approve --delete-data
echo
echo "Done: the emulator stops now. Against a real account, drop --endpoint-url (see README)."
