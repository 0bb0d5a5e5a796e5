/* report.h - placeholder until the renderers land (branch `report`). */
#ifndef LEAKHOUND_REPORT_H
#define LEAKHOUND_REPORT_H

#include <stddef.h>

#include "json.h"

int lh_report_render(const lh_json *report, const char *dir, char *err,
                     size_t errlen);

#endif
