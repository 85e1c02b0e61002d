/* Placeholder for `smalgo records` until its implementation lands. */
#include <stdio.h>

#include "commands.h"

int smg_cmd_records(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "smalgo records: not implemented yet\n");
    return 2;
}
