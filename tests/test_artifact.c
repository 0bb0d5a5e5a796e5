/*
 * test_artifact.c - a confirmed leak's sidecar read back: its signature
 * must come back exactly as the oracle made it (quotes, backslashes and
 * all), or de-duplication against known artifacts never matches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "artifact.h"
#include "buf.h"
#include "check.h"
#include "json.h"

static void test_signature_round_trip(void)
{
    char dir[] = "/tmp/lh-artifact-XXXXXX";
    if (!mkdtemp(dir)) {
        check(0, "a temporary directory");
        return;
    }
    static const uint8_t input[] = "GET /\"x\"";
    static const char sig[] = "heap.live_bytes|parse \"quoted\" at "
                              "C:\\src\\p.c:12|caf\xc3\xa9\ttab";
    lh_finding f;
    memset(&f, 0, sizeof f);
    snprintf(f.metric, sizeof f.metric, "heap.live_bytes");
    snprintf(f.unit, sizeof f.unit, "B");
    snprintf(f.signature, sizeof f.signature, "%s", sig);
    snprintf(f.site, sizeof f.site, "parse \"quoted\"");
    f.reps = 2;
    f.input = input;
    f.size = sizeof input - 1;
    lh_artifact_ctx ctx = { "s.lua", "w \"1\"", "t.so", "repro", 1 };
    char prefix[64], path[256] = "";
    snprintf(prefix, sizeof prefix, "%s/", dir);
    check(lh_artifact_write(prefix, &f, &ctx, path, sizeof path) == 0,
          "artifact and sidecar written (%s)", path);

    lh_buf known = LH_BUF_INIT;
    int n = lh_artifact_known(dir, &known);
    check(n == 1 && strcmp(lh_buf_str(&known), sig) == 0,
          "the known signature is the oracle's, unescaped (%d: %s)", n,
          lh_buf_str(&known));

    char side[300], err[256];
    snprintf(side, sizeof side, "%s.json", path);
    lh_json *js = lh_json_load(side, err, sizeof err);
    check(js && strcmp(lh_json_gets(js, "site", ""), f.site) == 0 &&
          strcmp(lh_json_gets(js, "workload", ""), ctx.workload) == 0,
          "the sidecar is JSON a strict reader loads (%s)",
          js ? "ok" : err);
    lh_json_free(js);
    lh_buf_free(&known);
    unlink(side);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    test_signature_round_trip();
    return check_report();
}
