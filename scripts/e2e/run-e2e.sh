#!/usr/bin/env bash
# End-to-end tests of the Octet extension in a real VS Code (code-server 4.100.3 = VS Code 1.100.3), offline:
#   1. code-server + chromium (scripts/e2e/install-tools.sh, cached in $OCTET_TOOLS_DIR, default ~/.cache/octet-tools)
#   2. build (unless --no-build) and package the linux-x64 .vsix, install it into an isolated profile
#   3. start code-server on 127.0.0.1 (own process group, killed at exit)
#   4. in-host tests: test/vscode/suite.vscode.ts inside the real extension host (dist/e2e/inhost.e2e.js)
#   5. UI test: Chromium right-clicks a model, answers the prompts, reads the report webview (dist/e2e/ui.e2e.js)
#   6. graph viewer: opens the FP32 and INT8 models in the octet.graph editor, searches, clicks (dist/e2e/graph.e2e.js)
# Results: test-output/e2e/summary.json, logs and screenshots beside it. Exit 0 only when both suites pass;
# exit 3 when the shared model/images are absent (nothing to test with).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OCTET_E2E_OUT:-$REPO/test-output/e2e}
SHARED=${OCTET_SHARED_DIR:-$REPO/../shared}
BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) BUILD=0 ;;
    *) echo "usage: $0 [--no-build]" >&2; exit 2 ;;
  esac
done
say() { echo "[e2e $(date +%T)] $*"; }

MODEL_SRC="$SHARED/assets/models/cifar10/resnet20_cifar10_akamaster.onnx"
IMAGES_SRC="$SHARED/assets/images/cifar10-test"
if [ ! -f "$MODEL_SRC" ] || [ ! -d "$IMAGES_SRC" ]; then
  say "SKIP: $MODEL_SRC or $IMAGES_SRC is absent (the e2e tests need ../shared/assets)"
  exit 3
fi

rm -rf "$OUT"; mkdir -p "$OUT/shots"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/octet-e2e.XXXXXX")
CS_PID=""
cleanup() {
  if [ -n "$CS_PID" ]; then kill -TERM -- "-$CS_PID" 2>/dev/null || true; sleep 1; kill -KILL -- "-$CS_PID" 2>/dev/null || true; fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

say "1. tools"
CS=$("$REPO/scripts/e2e/install-tools.sh" | tail -1)
export XDG_CONFIG_HOME=$SCRATCH/xdg/config XDG_DATA_HOME=$SCRATCH/xdg/data XDG_CACHE_HOME=$SCRATCH/xdg/cache

cd "$REPO"
if [ "$BUILD" = 1 ]; then say "2a. build"; node esbuild.mjs; fi
for f in dist/extension.js dist/engine.js dist/media/report/report.main.js dist/vscode/suite.vscode.js dist/e2e/inhost.e2e.js dist/e2e/ui.e2e.js; do
  [ -f "$f" ] || { say "missing $f: build first (node esbuild.mjs)"; exit 1; }
done
say "2b. package the linux-x64 vsix"
VSIX="$OUT/octet-linux-x64.vsix"
npx -y @vscode/vsce@4.1.0 package --target linux-x64 --skip-license --allow-missing-repository --no-rewrite-relative-links --out "$VSIX" \
  > "$OUT/vsce.log" 2>&1 || { tail -30 "$OUT/vsce.log"; exit 1; }
VSIX_BYTES=$(stat -c %s "$VSIX")
say "   $(basename "$VSIX"): $((VSIX_BYTES / 1024 / 1024)) MB ($VSIX_BYTES bytes)"
if command -v unzip > /dev/null; then unzip -l "$VSIX" > "$OUT/vsix-files.txt"; fi

say "3. workspaces and profile"
make_workspace() {
  local ws=$1
  mkdir -p "$ws/calib" "$ws/empty-calib"
  cp "$MODEL_SRC" "$ws/resnet20.onnx"
  head -c 4000 "$MODEL_SRC" > "$ws/corrupt.onnx"    # truncated protobuf
  local class
  for class in $(ls "$IMAGES_SRC"); do
    mkdir -p "$ws/calib/$class"
    ls "$IMAGES_SRC/$class" | head -8 | while read -r f; do cp "$IMAGES_SRC/$class/$f" "$ws/calib/$class/"; done
  done
  echo "no images here" > "$ws/empty-calib/README.txt"
}
make_workspace "$SCRATCH/ws-inhost"
make_workspace "$SCRATCH/ws-ui"
CSARGS=(--user-data-dir "$SCRATCH/data" --extensions-dir "$SCRATCH/exts")
mkdir -p "$SCRATCH/data/User"
cat > "$SCRATCH/data/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.colorTheme": "Default Dark Modern",
  "workbench.tips.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "update.mode": "none",
  "security.workspace.trust.enabled": false,
  "chat.commandCenter.enabled": false,
  "octet.evaluationCount": 80,
  "octet.calibrationBatch": 8
}
JSON
"$CS" "${CSARGS[@]}" --install-extension "$VSIX" > "$OUT/install-extension.log" 2>&1 || { cat "$OUT/install-extension.log"; exit 1; }

say "4. code-server"
PORT=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
setsid "$CS" "${CSARGS[@]}" --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry --disable-update-check \
  --disable-workspace-trust "$SCRATCH/ws-ui" > "$OUT/code-server.log" 2>&1 &
CS_PID=$!
healthy() { node -e 'require("http").get(process.argv[1], (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1))' "http://127.0.0.1:$PORT/healthz"; }
for _ in $(seq 1 150); do healthy && break; sleep 0.2; done
healthy || { say "code-server did not start"; tail -20 "$OUT/code-server.log"; exit 1; }
export CS_URL="http://127.0.0.1:$PORT" EXT_DIR="$REPO" SHOTS="$OUT/shots" UI_RESULTS="$OUT/ui-results.json"

say "5. in-host tests (real extension host, real engine)"
INHOST_RC=0
CS_FOLDER="$SCRATCH/ws-inhost" node dist/e2e/inhost.e2e.js > "$OUT/inhost.log" 2>&1 || INHOST_RC=$?
cp "$SCRATCH/ws-inhost/.octet-e2e/inhost-results.json" "$OUT/inhost-results.json" 2>/dev/null || true
grep -E '(^|\] )(not )?ok - |in-host: ' "$OUT/inhost.log" | sed 's/^/   /' || tail -20 "$OUT/inhost.log"

say "6. UI test (Chromium: explorer right-click → prompts → report panel)"
UI_RC=0
CS_FOLDER="$SCRATCH/ws-ui" node dist/e2e/ui.e2e.js > "$OUT/ui.log" 2>&1 || UI_RC=$?
grep -E '(not )?ok - ' "$OUT/ui.log" | sed 's/^/   /' || tail -20 "$OUT/ui.log"
cp "$SCRATCH/ws-ui/resnet20.int8.report.json" "$OUT/ui-report.json" 2>/dev/null || true

say "7. graph viewer (Chromium: open models in the octet.graph editor, search, click, INT8 overlay)"
GRAPH_RC=0
CS_FOLDER="$SCRATCH/ws-ui" GRAPH_RESULTS="$OUT/graph-results.json" node dist/e2e/graph.e2e.js > "$OUT/graph.log" 2>&1 || GRAPH_RC=$?
grep -E '(not )?ok - ' "$OUT/graph.log" | sed 's/^/   /' || tail -20 "$OUT/graph.log"

node -e '
const fs = require("fs");
const read = (p) => { try { return JSON.parse(fs.readFileSync(p, "utf8")); } catch { return null; } };
const [out, inhostRc, uiRc, vsixBytes, graphRc] = process.argv.slice(1);
const summary = { inhost: { exitCode: Number(inhostRc), ...(read(out + "/inhost-results.json") ?? {}) },
  ui: { exitCode: Number(uiRc), ...(read(out + "/ui-results.json") ?? {}) },
  graph: { exitCode: Number(graphRc), ...(read(out + "/graph-results.json") ?? {}) }, vsixBytes: Number(vsixBytes),
  screenshots: fs.readdirSync(out + "/shots").map((f) => out + "/shots/" + f) };
fs.writeFileSync(out + "/summary.json", JSON.stringify(summary, null, 2) + "\n");
' "$OUT" "$INHOST_RC" "$UI_RC" "$VSIX_BYTES" "$GRAPH_RC"
say "summary: $OUT/summary.json (in-host exit $INHOST_RC, UI exit $UI_RC, graph exit $GRAPH_RC)"
[ "$INHOST_RC" = 0 ] && [ "$UI_RC" = 0 ] && [ "$GRAPH_RC" = 0 ]
