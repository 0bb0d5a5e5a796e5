/* report_stub.c - placeholder until the renderers land. */
#include "report.h"

int lh_report_render(const lh_json *report, const char *dir, char *err,
                     size_t errlen)
{
    (void)report;
    (void)dir;
    (void)err;
    (void)errlen;
    return 0;
}
