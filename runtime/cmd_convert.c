/* Placeholder for `smalgo convert` until its implementation lands. */
#include <stdio.h>

#include "commands.h"

int smg_cmd_convert(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "smalgo convert: not implemented yet\n");
    return 2;
}
