/* text.c - durations and file-safe names. */
#include "text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha1.h"

int lh_parse_duration(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0)
        return -1;
    if (*end == '\0' || strcmp(end, "s") == 0)
        *out = v;
    else if (strcmp(end, "ms") == 0)
        *out = v / 1000;
    else if (strcmp(end, "m") == 0)
        *out = v * 60;
    else if (strcmp(end, "h") == 0)
        *out = v * 3600;
    else
        return -1;
    return 0;
}

void lh_safe_name(char *out, size_t len, const char *name)
{
    enum { TAG = 9 };           /* "-" and 8 hex digits */
    size_t n = strlen(name), i = 0;
    int changed = n == 0 || n + 1 > len;
    size_t keep = changed ? len - 1 - TAG : n;
    for (; i < keep && i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        int bad = ch == '/' || ch == ' ' || ch == '\\' ||
                  (i == 0 && ch == '.');
        changed |= bad;
        out[i] = bad ? '_' : (char)ch;
    }
    if (changed && i > len - 1 - TAG)
        i = len - 1 - TAG;
    if (changed) {
        char hex[41];
        lh_sha1_hex(name, n, hex);
        snprintf(out + i, len - i, "-%.8s", hex);
    } else {
        out[i] = '\0';
    }
}

void lh_shell_quote(lh_buf *b, const char *s)
{
    /* plain words stay readable; anything else goes in single quotes */
    int plain = *s != '\0';
    for (const char *p = s; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                       "0123456789_-./=:,+@%", *p) != NULL;
    if (plain) {
        lh_buf_puts(b, s);
        return;
    }
    lh_buf_putc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            lh_buf_puts(b, "'\\''");
        else
            lh_buf_putc(b, *p);
    }
    lh_buf_putc(b, '\'');
}

void lh_path_dir(char *out, size_t len, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, len, ".");
    else if (slash == path)
        snprintf(out, len, "/");
    else
        snprintf(out, len, "%.*s", (int)(slash - path), path);
}

void lh_target_name(char *out, size_t len, const char *path)
{
    const char *file = strrchr(path, '/');
    file = file ? file + 1 : path;
    if (strncmp(file, "lib", 3) == 0)
        file += 3;
    size_t n = strcspn(file, ".");
    snprintf(out, len, "%.*s", (int)n, file);
}

int lh_word_in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}
