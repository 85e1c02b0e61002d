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
    {"version", smg_cmd_version, "print the version, git revision and library versions"},
};

/* `smalgo --help`: a manual page in the usual sections. */
static void usage(FILE *out)
{
    fprintf(out, "NAME\n    smalgo - SageMaker-compatible PCA and k-means: train, serve, tools\n\n"
                 "SYNOPSIS\n    smalgo [COMMAND [OPTIONS]]\n    smalgo COMMAND --help\n"
                 "    smalgo --version\n\n"
                 "DESCRIPTION\n    A drop-in for SageMaker's built-in PCA and k-means images. "
                 "With no COMMAND it\n    trains, as SageMaker starts a training image.\n\n"
                 "COMMANDS\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "    %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nENVIRONMENT\n"
                 "    SMALGO_ML_ROOT    the job folder instead of /opt/ml (or --ml-root DIR)\n"
                 "    SMALGO_ALGORITHM  pca or kmeans (or --algorithm; else inferred from the\n"
                 "                      hyperparameters)\n"
                 "    OPENBLAS_*        passed to OpenBLAS (smalgo --version shows its kernel)\n\n"
                 "FILES\n"
                 "    /opt/ml/input/config/*.json     hyperparameters, channels, hosts\n"
                 "    /opt/ml/input/data/CHANNEL/     File-mode data, or the CHANNEL_N FIFOs\n"
                 "    /opt/ml/model/model_HOST        the model (an MXNet NDArray file)\n"
                 "    /opt/ml/output/failure          why a job failed\n\n"
                 "EXIT STATUS\n    0 on success, non-zero on failure (train writes the reason to "
                 "output/failure).\n\n"
                 "EXAMPLES\n"
                 "    smalgo train --ml-root ./ml\n"
                 "    smalgo inspect ./ml/model/model_algo-1\n"
                 "    smalgo serve --model-dir ./ml/model --port 8080\n\n"
                 "SEE ALSO\n    README.md and docker/README.md in the source tree.\n");
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
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
        return smg_cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "smalgo: unknown command '%s' (smalgo --help lists them)\n", argv[1]);
    return 2;
}
