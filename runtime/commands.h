/*
 * The smalgo subcommands. Each lives in runtime/cmd_<name>.c and takes the
 * arguments after its own name (argv[0] is the subcommand name). Each returns
 * the process exit status.
 */
#ifndef SMG_COMMANDS_H
#define SMG_COMMANDS_H

int smg_cmd_train(int argc, char **argv);   /* train a model from /opt/ml */
int smg_cmd_inspect(int argc, char **argv); /* print an NDArray model file as JSON */
int smg_cmd_records(int argc, char **argv); /* decode training data to CSV or stats */
int smg_cmd_convert(int argc, char **argv); /* CSV or .npy to recordIO-protobuf */
int smg_cmd_pipe(int argc, char **argv);    /* Pipe-mode agent: feed channel FIFOs */
int smg_cmd_serve(int argc, char **argv);   /* SageMaker inference server */
int smg_cmd_launch(int argc, char **argv);  /* the image entrypoint: train on one or many hosts */
int smg_cmd_version(int argc, char **argv); /* version, git revision, libraries */

#endif
