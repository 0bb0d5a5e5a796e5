/* initcmd.h - `leakhound init`: a starter script for a library. */
#ifndef LEAKHOUND_INITCMD_H
#define LEAKHOUND_INITCMD_H

int lh_init_cmd(int argc, char **argv);

#endif
