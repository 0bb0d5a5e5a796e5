/* help.h - each command's own help page. */
#ifndef LEAKHOUND_HELP_H
#define LEAKHOUND_HELP_H

/* The page `leakhound CMD --help` prints; NULL for a command without one. */
const char *lh_help_page(const char *cmd);

#endif
