/* buildcmd.h - `leakhound build c|go`: a user's library built for run,
 * fuzz (libFuzzer) and AFL++. */
#ifndef LEAKHOUND_BUILDCMD_H
#define LEAKHOUND_BUILDCMD_H

/* argv[1] is "build".  Returns the exit status. */
int lh_build_cmd(int argc, char **argv);

#endif
