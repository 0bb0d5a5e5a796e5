/*
 * scripts.h - the scripts a command was given: a directory stands for its
 * *.lua files.
 */
#ifndef LEAKHOUND_SCRIPTS_H
#define LEAKHOUND_SCRIPTS_H

#include "buf.h"

/* The *.lua files of each path that is a directory (sorted), and every
 * other path as given, appended to files ("\0"-separated, ending with an
 * empty string).  -1 when a path does not exist (err names it). */
int lh_expand_scripts(char **paths, int n, lh_buf *files, lh_buf *err);

#endif
