/* Placeholder for `smalgo train` until its implementation lands. */
#include <stdio.h>

#include "commands.h"

int smg_cmd_train(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "smalgo train: not implemented yet\n");
    return 2;
}
