/*
 * smalgo: one binary, several subcommands. SageMaker starts training images as
 * `IMAGE train` and hosting images as `IMAGE serve`; with no argument at all
 * (SDK v3 local mode) we train.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "io/base/alloc.h"
#include "runtime/commands.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
};

static const struct command commands[] = {
    {"train", smg_cmd_train, "train a model from /opt/ml (or --ml-root DIR)"},
    {"serve", smg_cmd_serve, "serve a model over HTTP as SageMaker hosting does"},
    {"inspect", smg_cmd_inspect, "print an MXNet NDArray model file as JSON"},
    {"records", smg_cmd_records, "decode training data: rows as CSV, or --stats"},
    {"convert", smg_cmd_convert, "convert CSV or .npy to recordIO-protobuf"},
    {"pipe", smg_cmd_pipe, "Pipe-mode agent: stream channel files into FIFOs"},
    {"launch", smg_cmd_launch, "train on every host of resourceconfig.json (the image entrypoint)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: smalgo <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\n`smalgo <command> --help` describes a command's options.\n");
}

int main(int argc, char **argv)
{
    static char train_name[] = "train";
    static char *no_args[] = {train_name, NULL};
    /* cJSON allocates through smalgo's allocator like everything else. */
    cJSON_Hooks hooks = {.malloc_fn = smg_malloc, .free_fn = smg_free};

    cJSON_InitHooks(&hooks);
    if (argc < 2)
        return smg_cmd_train(1, no_args);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "smalgo: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
