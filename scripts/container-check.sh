#!/usr/bin/env bash
# Builds the image with podman and checks that it serves speech: /health, a
# WAV from POST /v1/speech decoded back (length and loudness), the image's
# HEALTHCHECK, and SIGTERM draining to exit 0. Run as root (rootful podman).
# On machines that cannot pull node:20-bookworm-slim it first builds a local
# base (scripts/build-base-image.sh); BASE_IMAGE=node:20-bookworm-slim uses the public one.
# The podman flags suit a sandbox without systemd and with cgroup v1 and
# capped rlimits; on an ordinary host plain `podman build/run` does the same.
set -euo pipefail
cd "$(dirname "$0")/.."

base=${BASE_IMAGE:-localhost/emomix-base:node20-bookworm}
image=${IMAGE:-localhost/emomix:check}
port=${PORT:-18480}
name=emomix-check-$$
podman=(podman --runtime runc --cgroup-manager cgroupfs)
limits=(--ulimit nofile=$(ulimit -Hn):$(ulimit -Hn) --ulimit nproc=4096:4096)
work=$(mktemp -d)
trap '"${podman[@]}" rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

if [[ $base == localhost/* ]] && ! "${podman[@]}" image exists "$base"; then
  bash scripts/build-base-image.sh "$base"
fi
secret=()
[ -f /etc/ssl/certs/ca-certificates.crt ] && secret=(--secret id=ca,src=/etc/ssl/certs/ca-certificates.crt)
start=$(date +%s)
"${podman[@]}" build --format docker --network host "${limits[@]}" "${secret[@]}" --build-arg BASE_IMAGE="$base" -t "$image" .
echo "container-check: image built in $(( $(date +%s) - start )) s, $("${podman[@]}" image inspect --format '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"

"${podman[@]}" run -d --name "$name" --network host --read-only --tmpfs /tmp "${limits[@]}" -e PORT="$port" -e EMOMIX_INSTANCE_ID=check-1 "$image" >/dev/null
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$port/health" >"$work/health.json" && break; sleep 0.5; done
grep -q '"instance":"check-1"' "$work/health.json" || { echo "container-check: no /health"; "${podman[@]}" logs "$name"; exit 1; }
[ "$("${podman[@]}" exec "$name" id -u)" != 0 ] || { echo "container-check: runs as root"; exit 1; }

curl -sf -X POST -H 'content-type: application/json' \
  -d '{"text":"The container speaks, and it is happy to.","format":"wav","emotion":{"happy":1},"seed":7}' \
  "http://127.0.0.1:$port/v1/speech" -o "$work/speech.wav"
duration=$(soxi -D "$work/speech.wav")
rms=$(sox "$work/speech.wav" -n stat 2>&1 | awk '/RMS +amplitude/ {print $3}')
echo "container-check: /v1/speech WAV $(soxi -r "$work/speech.wav") Hz, ${duration} s, RMS ${rms}"
awk -v d="$duration" -v r="$rms" 'BEGIN { exit !(d > 1.0 && d < 10 && r > 0.01) }' || { echo "container-check: implausible speech"; exit 1; }
curl -sf -X POST -H 'content-type: application/json' -d '{"text":"And in Ogg Opus.","format":"ogg"}' \
  "http://127.0.0.1:$port/v1/speech" -o "$work/speech.ogg"
[ "$(head -c 4 "$work/speech.ogg")" = OggS ] && grep -q OpusHead "$work/speech.ogg" || { echo "container-check: no Ogg Opus"; exit 1; }

"${podman[@]}" healthcheck run "$name" 2>/dev/null || { echo "container-check: HEALTHCHECK failed"; exit 1; }
"${podman[@]}" stop -t 30 "$name" >/dev/null
code=$("${podman[@]}" inspect --format '{{.State.ExitCode}}' "$name")
"${podman[@]}" logs "$name" 2>&1 | grep -q '"msg":"drained"' || { echo "container-check: SIGTERM did not drain"; exit 1; }
[ "$code" = 0 ] || { echo "container-check: exit code $code after SIGTERM"; exit 1; }
echo "container-check: ok (SIGTERM drained, exit 0)"
