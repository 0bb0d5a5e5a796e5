/*
 * exit.h - leakhound's exit statuses, shared by every command.  When
 * several apply, the highest wins; an interrupted run exits 128+signal.
 */
#ifndef LEAKHOUND_EXIT_H
#define LEAKHOUND_EXIT_H

/* In `leakhound run`'s terms; other commands map onto the same four. */
enum {
    LH_EXIT_PASS = 0,       /* every invariant holds */
    LH_EXIT_FAIL = 1,       /* some invariant failed */
    LH_EXIT_ERROR = 2,      /* usage, script or target-load error */
    LH_EXIT_CRASH = 3,      /* a workload crashed or timed out */
};

#endif
