/* Placeholder for `smalgo inspect` until its implementation lands. */
#include <stdio.h>

#include "commands.h"

int smg_cmd_inspect(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "smalgo inspect: not implemented yet\n");
    return 2;
}
