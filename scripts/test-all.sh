#!/usr/bin/env bash
# Installs what the tests need (Debian packages when missing, npm packages, the
# LiveKit plugin's own packages) and runs every suite: vitest (TypeScript, the
# plugin's tests included) and pytest (the Python recipe).
set -uo pipefail
cd "$(dirname "$0")/.."

need=()
/usr/bin/python3 -c "import torch, onnx, pytest" 2>/dev/null || need+=(python3-torch libopenblas0-pthread python3-onnx python3-pytest python3-numpy)
command -v sox >/dev/null || need+=(sox)
[ -d /usr/share/festival/voices/us/cmu_us_slt_arctic_hts ] || need+=(festival festvox-us-slt-hts)
[ -d /usr/share/festival/voices/english/kal_diphone ] || need+=(festvox-kallpc16k)
command -v pocketsphinx_continuous >/dev/null || need+=(pocketsphinx pocketsphinx-en-us)
command -v chromium >/dev/null || need+=(chromium)
/usr/bin/python3 -c "import websockets, msgpack" 2>/dev/null || need+=(python3-websockets python3-msgpack)
command -v haproxy >/dev/null || need+=(haproxy)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test-all: missing Debian packages (run as root to install): ${need[*]}" >&2
    exit 1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null || exit 1
fi

# onnxruntime-node's install script would download CUDA libraries: package.json's
# allowScripts denies it on npm 11; this skips it on npms that run it anyway.
export ONNXRUNTIME_NODE_INSTALL=skip
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund || exit 1
fi
# The LiveKit plugin is a package of its own (its tests run in the vitest suite below).
if [ ! -d clients/livekit/node_modules ] || [ clients/livekit/package-lock.json -nt clients/livekit/node_modules/.package-lock.json ]; then
  (cd clients/livekit && npm ci --no-audit --no-fund) || exit 1
fi

mkdir -p test-output
npm run --silent typecheck && (cd clients/livekit && npm run --silent typecheck)
typecheck_rc=$?
npx vitest run --reporter=default --reporter=json --outputFile.json=test-output/vitest.json
vitest_rc=$?
(cd models/recipe && /usr/bin/python3 -m pytest -q --junitxml=../../test-output/pytest.xml tests)
pytest_rc=$?

node -e '
const fs = require("fs");
let passed = 0, failed = 0;
try { const v = JSON.parse(fs.readFileSync("test-output/vitest.json", "utf8")); passed += v.numPassedTests; failed += v.numFailedTests; } catch { failed += 1; }
try { const x = fs.readFileSync("test-output/pytest.xml", "utf8"); const m = /<testsuite [^>]*errors="(\d+)" failures="(\d+)" skipped="(\d+)" tests="(\d+)"/.exec(x);
  const [e, f, s, t] = m.slice(1).map(Number); passed += t - e - f - s; failed += e + f; } catch { failed += 1; }
console.log(`${passed} passed, ${failed} failed`);
'
[ $typecheck_rc -eq 0 ] && [ $vitest_rc -eq 0 ] && [ $pytest_rc -eq 0 ]
