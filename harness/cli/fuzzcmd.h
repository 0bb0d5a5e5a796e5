/* fuzzcmd.h - `leakhound fuzz` and `leakhound minimize`. */
#ifndef LEAKHOUND_FUZZCMD_H
#define LEAKHOUND_FUZZCMD_H

/* argv[1] is the command name.  Return the exit status. */
int lh_fuzz_cmd(int argc, char **argv);
int lh_minimize_cmd(int argc, char **argv);

#endif
