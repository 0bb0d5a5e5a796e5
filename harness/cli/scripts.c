/* scripts.c - expand script arguments (directories to their *.lua). */
#include "scripts.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

int lh_expand_scripts(char **paths, int n, lh_buf *files, lh_buf *err)
{
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(paths[i], &st) < 0) {
            lh_buf_printf(err, "%s: %s", paths[i], strerror(errno));
            return -1;
        }
        if (!S_ISDIR(st.st_mode)) {
            lh_buf_add(files, paths[i], strlen(paths[i]) + 1);
            continue;
        }
        lh_buf names = LH_BUF_INIT;
        lh_list_dir(paths[i], &names);
        int found = 0;
        for (const char *p = lh_buf_str(&names); *p; p += strlen(p) + 1) {
            if (!ends_with(p, ".lua"))
                continue;
            size_t dl = strlen(paths[i]);
            lh_buf_printf(files, "%s%s%s", paths[i],
                          dl && paths[i][dl - 1] == '/' ? "" : "/", p);
            lh_buf_add(files, "", 1);
            found++;
        }
        lh_buf_free(&names);
        if (!found) {
            lh_buf_printf(err, "%s: no *.lua scripts in this directory",
                          paths[i]);
            return -1;
        }
    }
    lh_buf_add(files, "", 1);
    return 0;
}
