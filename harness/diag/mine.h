/*
 * mine.h - whose code a frame is (mine.c), for blame.c: the user's, or a
 * system library's (or what the workload's not_mine prefixes name).
 */
#ifndef LEAKHOUND_MINE_H
#define LEAKHOUND_MINE_H

#include "symbolize.h"

/* 1 when the function func at loc (either may be NULL) in object o is the
 * user's code.  Harness frames and runtime libraries are the caller's to
 * leave out first. */
int lh_mine_frame(const sym_obj *o, const char *func, const char *loc);

/* 1 when an object's file lies where system libraries are installed. */
int lh_mine_path_is_system(const char *path);

#endif
