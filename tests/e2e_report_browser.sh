#!/usr/bin/env bash
# index.html in a real browser: headless Chromium renders the fixture
# reports, a screenshot is kept with the test logs (REPORT_SCREENSHOT, by
# default build/meson-logs/report-screenshot.png), and the DOM Chromium
# built holds the workload names and one SVG plot per invariant with its
# series and fitted line.  Skipped (exit 77) when Chromium is missing;
# ci/deps installs it.
source "$(dirname "$0")/lib.sh"

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "ok - skipped: chromium not installed"
    exit 77
fi

shot=${REPORT_SCREENSHOT:-build/meson-logs/report-screenshot.png}
mkdir -p "$(dirname "$shot")"
out=$(mktemp -d)
profile=$(mktemp -d)
trap 'rm -rf "$out" "$profile"' EXIT

# Nothing that reaches the network or spends time on first-run chores.
chrome() {
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
        --disable-quic --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync \
        --user-data-dir="$profile" "$@" 2>/dev/null
}

for name in test run; do
    fixture=$TESTS_DIR/reports/$name.json
    "$LH" report "$fixture" --out "$out/$name" >/dev/null
    page=file://$out/$name/index.html
    png=$shot
    [ "$name" = run ] && png=${shot%.png}-run.png

    rm -f "$png"
    chrome --screenshot="$png" --window-size=1280,2000 "$page" >/dev/null
    if [ -s "$png" ] && [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" \
            = 89504e470d0a1a0a ] && [ "$(wc -c < "$png")" -gt 20000 ]; then
        ok "$name: screenshot $(cd "$(dirname "$png")" && pwd)/$(basename "$png")"
    else
        fail "$name: no screenshot from $browser"
    fi

    dom=$(chrome --dump-dom "$page")
    expect_match "$name: the browser built a DOM" "$dom" '<main>'
    while IFS= read -r w; do
        # The DOM serializer escapes < > & as the page did.
        w=$(printf '%s' "$w" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g')
        if grep -qF -- "$w" <<<"$dom"; then ok "$name: shows $w"
        else fail "$name: workload '$w' missing from the DOM"; fi
    done < <(jget "$fixture" '(function() local t = {}
        for _, w in ipairs(r.workloads) do t[#t + 1] = w.name end
        return table.concat(t, "\n") end)()')
    want=$(jget "$fixture" '(function() local n = 0
        for _, w in ipairs(r.workloads) do n = n + #w.invariants end
        return n end)()')
    expect_eq "$name: an SVG plot per invariant in the DOM" \
        "$(grep -o '<svg class="plot"' <<<"$dom" | wc -l)" "$want"
    expect_eq "$name: each with its series as a polyline with points" \
        "$(grep -Eo '<polyline class="series"[^>]* points="[0-9.]+,[0-9.]+( [0-9.]+,[0-9.]+)+"' <<<"$dom" | wc -l)" \
        "$want"
    expect_eq "$name: and its fitted line as a path" \
        "$(grep -Eo '<path class="fit"[^>]* d="M[0-9.]+,[0-9.]+ L[0-9.]+,[0-9.]+"' <<<"$dom" | wc -l)" \
        "$want"
done

finish
