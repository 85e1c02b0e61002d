/* Placeholder for `smalgo serve` until its implementation lands. */
#include <stdio.h>

#include "commands.h"

int smg_cmd_serve(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "smalgo serve: not implemented yet\n");
    return 2;
}
