#!/usr/bin/env bash
# Runs compose.yaml with podman-compose and checks it: three instances UP in
# HAProxy, new requests spread over all three, speech through the balancer
# decoded back, and one instance stopped (SIGTERM: drains, exits 0) while the
# others keep serving. Run as root; needs podman, podman-compose, runc, sox.
# Builds local bases first where public images cannot be pulled
# (BASE_IMAGE=node:20-bookworm-slim HAPROXY_BASE_IMAGE=debian:bookworm-slim
# use the public ones). The podman flags are this sandbox's (see container-check.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

export BASE_IMAGE=${BASE_IMAGE:-localhost/emomix-base:node20-bookworm}
export HAPROXY_BASE_IMAGE=${HAPROXY_BASE_IMAGE:-$BASE_IMAGE}
export EMOMIX_PORT=${EMOMIX_PORT:-18080} EMOMIX_STATS_PORT=${EMOMIX_STATS_PORT:-18404}
podman_args="--runtime runc --cgroup-manager cgroupfs"
limits="--ulimit nofile=$(ulimit -Hn):$(ulimit -Hn) --ulimit nproc=4096:4096"
secret=""
[ -f /etc/ssl/certs/ca-certificates.crt ] && secret="--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt"
compose=(podman-compose -p emomix-check --podman-args "$podman_args" --podman-run-args "$limits" --podman-build-args "--format docker --network host $limits $secret")
work=$(mktemp -d)
trap '"${compose[@]}" down -t 5 >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

if [[ $BASE_IMAGE == localhost/* ]] && ! podman image exists "$BASE_IMAGE"; then
  bash scripts/build-base-image.sh "$BASE_IMAGE"
fi
"${compose[@]}" build
"${compose[@]}" up -d

up() { curl -sf "http://127.0.0.1:$EMOMIX_STATS_PORT/stats;csv" | awk -F, '$1 == "emomix" && $2 ~ /^emomix-/ && $18 == "UP"' | wc -l; }
for _ in $(seq 240); do [ "$(up 2>/dev/null)" = 3 ] && break; sleep 0.5; done
[ "$(up)" = 3 ] || { echo "compose-check: not every instance UP in HAProxy"; "${compose[@]}" logs; exit 1; }

for _ in 1 2 3 4 5 6; do curl -sf "http://127.0.0.1:$EMOMIX_PORT/health" | sed 's/.*"instance":"\([^"]*\)".*/\1/'; echo; done | sort -u >"$work/instances"
[ "$(wc -l <"$work/instances")" = 3 ] || { echo "compose-check: requests did not reach all three instances: $(cat "$work/instances")"; exit 1; }

speak() {
  curl -sf -X POST -H 'content-type: application/json' -d '{"text":"Three instances behind one balancer.","format":"wav","seed":3}' \
    "http://127.0.0.1:$EMOMIX_PORT/v1/speech" -o "$work/speech.wav"
  awk -v d="$(soxi -D "$work/speech.wav")" 'BEGIN { exit !(d > 1.0 && d < 10) }'
}
speak || { echo "compose-check: no speech through HAProxy"; exit 1; }

"${compose[@]}" stop -t 20 emomix-2 >/dev/null
code=$(podman $podman_args inspect --format '{{.State.ExitCode}}' emomix-check_emomix-2_1)
podman $podman_args logs emomix-check_emomix-2_1 2>&1 | grep -q '"msg":"drained"' || { echo "compose-check: emomix-2 did not drain"; exit 1; }
[ "$code" = 0 ] || { echo "compose-check: emomix-2 exited $code"; exit 1; }
for _ in 1 2 3 4; do speak || { echo "compose-check: speech failed with emomix-2 stopped"; exit 1; }; done
echo "compose-check: ok (3 instances UP and used: $(tr '\n' ' ' <"$work/instances"); speech through HAProxy; emomix-2 drained and exited 0; the others kept serving)"
