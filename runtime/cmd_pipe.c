/* Placeholder for `smalgo pipe` until its implementation lands. */
#include <stdio.h>

#include "commands.h"

int smg_cmd_pipe(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "smalgo pipe: not implemented yet\n");
    return 2;
}
