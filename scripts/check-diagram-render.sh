#!/usr/bin/env bash
# Checks in a real browser that rustdoc draws a state enum's Mermaid diagram: builds the docs of the hygiene crate
# with the Mermaid header (docs/mermaid/header.html), opens a state enum's page in headless Chromium, lets its
# scripts run, and fails unless an <svg> was rendered inside the page's <pre class="mermaid"> with the machine's
# states in it. Offline: Mermaid comes from the vendored docs/mermaid/mermaid.tiny.js.
#
# Usage: scripts/check-diagram-render.sh [SCREENSHOT.png]
#   Needs Debian's `chromium` (apt-get install -y chromium); set CHROMIUM to use another binary.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$chromium" ] || { echo "check-diagram-render: chromium is missing (apt-get install -y chromium)"; exit 1; }

# An explicit RUSTDOCFLAGS replaces .cargo/config.toml's, so name the header here too.
RUSTDOCFLAGS="-D warnings --html-in-header $repo/docs/mermaid/header.html" \
    cargo doc -p stagewise-hygiene --no-deps --quiet

target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
doc=$target/doc
# The header finds the vendored copy through target/ inside the repository; elsewhere, put a copy beside the docs.
if [ "$(cd "$target" && pwd -P)" != "$(cd "$repo" && pwd -P)/target" ]; then
    cp docs/mermaid/mermaid.tiny.js "$doc/mermaid.tiny.js"
fi

page=$doc/stagewise_hygiene/transform/enum.State.html
[ -f "$page" ] || { echo "check-diagram-render: $page was not generated"; exit 1; }
grep -q '<pre class="mermaid">' "$page" || { echo "check-diagram-render: no <pre class=\"mermaid\"> in $page"; exit 1; }

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
browse() {
    timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir="$profile" \
        --virtual-time-budget=20000 "$@" "file://$page" 2>/dev/null
}

dom=$(browse --dump-dom)
# The rendered block: from <pre class="mermaid" ...> to its </pre>, which must now hold an <svg> naming the states.
block=$(printf '%s' "$dom" | perl -0777 -ne 'print $1 if m{<body.*?(<pre class="mermaid"[^>]*>.*?</pre>)}s')
[ -n "$block" ] || { echo "check-diagram-render: the mermaid block is gone from the rendered page"; exit 1; }
if ! printf '%s' "$block" | grep -q '<svg'; then
    echo "check-diagram-render: FAILED: no <svg> inside the mermaid block; the diagram did not render"
    printf '%s\n' "$block" | head -c 600
    exit 1
fi
for state in Idle Counting Broken; do
    printf '%s' "$block" | grep -q ">$state<" || {
        echo "check-diagram-render: FAILED: the rendered diagram does not show state $state"
        exit 1
    }
done
echo "check-diagram-render: ok: $page renders its state diagram as an SVG"

if [ $# -ge 1 ]; then
    browse --window-size=1280,1600 --screenshot="$(realpath -m "$1")" >/dev/null
    echo "check-diagram-render: screenshot in $1"
fi
