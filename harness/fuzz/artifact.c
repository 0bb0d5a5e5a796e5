/* artifact.c - writing and listing confirmed leak cases. */
#include "artifact.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "file.h"
#include "json.h"
#include "sha1.h"
#include "text.h"

void lh_finding_json(lh_buf *b, const lh_finding *f,
                     const lh_artifact_ctx *ctx, const char *input_path)
{
    char sha[41], when[32];
    lh_sha1_hex(f->input, f->size, sha);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);

    lh_buf_puts(b, "{\"leakhound\":\"" LH_VERSION "\",\"kind\":\"leak\",");
    static const char *keys[] = {
        "workload", "script", "target", "engine", "metric", "unit",
        "signature", "site", "input", "sha1", "found",
    };
    const char *vals[] = {
        ctx->workload, ctx->script, ctx->target, ctx->engine, f->metric,
        f->unit, f->signature, f->site, input_path, sha, when,
    };
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        lh_json_key(b, keys[i]);
        lh_json_str(b, vals[i]);
        lh_buf_putc(b, ',');
    }
    /* mode "same": the input replayed `reps` times; "distinct": `variants`
     * distinct variants of it, the series read every `sample_every`, and
     * growth_per_rep is per distinct input. */
    lh_buf_printf(b, "\"seed\":%llu,\"size\":%zu,\"mode\":\"%s\","
                  "\"reps\":%d,", ctx->seed, f->size,
                  f->distinct ? "distinct" : "same", f->reps);
    if (f->distinct)
        lh_buf_printf(b, "\"variants\":%ld,\"sample_every\":%d,"
                      "\"variant_at\":%ld,", f->variants, f->every,
                      f->variant_at);
    else if (f->every > 1)      /* paced: in-flight goroutines */
        lh_buf_printf(b, "\"sample_every\":%d,", f->every);
    lh_json_key(b, "growth_per_rep");
    lh_json_num(b, f->growth_per_rep);
    lh_json_field_num(b, "p_value", f->p_value);
    lh_buf_puts(b, ",\"series\":[");
    for (int i = 0; i <= f->reps && i <= LH_ORACLE_MAX_REPS; i++) {
        if (i)
            lh_buf_putc(b, ',');
        lh_json_num(b, f->series[i]);
    }
    lh_buf_puts(b, "],\"repro\":");
    lh_buf cmd = LH_BUF_INIT;
    lh_buf_puts(&cmd, "leakhound repro ");
    lh_shell_quote(&cmd, ctx->script ? ctx->script : "SCRIPT");
    lh_buf_puts(&cmd, " --workload ");
    lh_shell_quote(&cmd, ctx->workload ? ctx->workload : "NAME");
    lh_buf_putc(&cmd, ' ');
    lh_shell_quote(&cmd, input_path ? input_path : "FILE");
    lh_json_str(b, lh_buf_str(&cmd));
    lh_buf_free(&cmd);
    lh_buf_puts(b, "}\n");
}

int lh_artifact_write(const char *prefix, const lh_finding *f,
                      const lh_artifact_ctx *ctx, char *path, size_t len)
{
    char sha[41];
    lh_sha1_hex(f->input, f->size, sha);
    lh_buf in = LH_BUF_INIT, js = LH_BUF_INIT, json = LH_BUF_INIT;
    lh_buf_printf(&in, "%sleak-%s", prefix ? prefix : "", sha);
    lh_buf_printf(&js, "%s.json", lh_buf_str(&in));
    int rc = lh_write_atomic(lh_buf_str(&in), f->input, f->size);
    if (rc == 0) {
        lh_finding_json(&json, f, ctx, lh_buf_str(&in));
        rc = lh_write_atomic(lh_buf_str(&js), json.data, json.len);
    }
    if (path)
        snprintf(path, len, "%s", lh_buf_str(&in));
    int e = errno;
    lh_buf_free(&in);
    lh_buf_free(&js);
    lh_buf_free(&json);
    errno = e;
    return rc;
}

int lh_artifact_known(const char *dir, lh_buf *b)
{
    lh_buf names = LH_BUF_INIT, path = LH_BUF_INIT;
    int count = 0;
    if (lh_list_dir(dir, &names) >= 0) {
        for (const char *p = lh_buf_str(&names); *p; p += strlen(p) + 1) {
            size_t n = strlen(p);
            /* a finding `fuzz` did not reproduce (unconfirmed-leak-*) is
             * known too: found again, it would be rejected again */
            int unconfirmed = strncmp(p, "unconfirmed-leak-", 17) == 0;
            if ((!unconfirmed && strncmp(p, "leak-", 5) != 0) || n < 5 ||
                strcmp(p + n - 5, ".json") != 0)
                continue;
            lh_buf_reset(&path);
            lh_buf_printf(&path, "%s/%s", dir, p);
            char err[256];
            lh_json *js = lh_json_load(lh_buf_str(&path), err, sizeof err);
            const char *sig = lh_json_gets(js, "signature", NULL);
            if (sig) {
                lh_buf_add(b, sig, strlen(sig) + 1);
                count += !unconfirmed;
            }
            lh_json_free(js);
        }
    }
    lh_buf_add(b, "", 1);
    lh_buf_free(&names);
    lh_buf_free(&path);
    return count;
}

int lh_artifact_is_input(const char *name)
{
    if (strncmp(name, "leak-", 5) != 0 || strlen(name) != 45)
        return 0;
    for (const char *p = name + 5; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return 0;
    return 1;
}

int lh_artifact_verified(const char *path)
{
    char side[4200], err[256];
    snprintf(side, sizeof side, "%s.json", path);
    lh_json *js = lh_json_load(side, err, sizeof err);
    int v = lh_json_getb(js, "verified", 0);
    lh_json_free(js);
    return v;
}

int lh_artifact_set_verified(const char *path)
{
    char side[4200], err[256];
    snprintf(side, sizeof side, "%s.json", path);
    lh_json *js = lh_json_load(side, err, sizeof err);
    if (!js) {
        errno = ENOENT;
        return -1;
    }
    lh_buf b = LH_BUF_INIT;
    lh_buf_puts(&b, "true");
    lh_json_set(js, "verified", lh_json_from(&b));
    lh_buf_reset(&b);
    lh_json_write(&b, js);
    lh_buf_putc(&b, '\n');
    int rc = lh_write_atomic(side, b.data, b.len);
    int e = errno;
    lh_buf_free(&b);
    lh_json_free(js);
    errno = e;
    return rc;
}
