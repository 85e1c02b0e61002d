/*
 * The model folder, made ready before training starts.
 *
 * Why before: a read-only or full model folder used to show only when the
 * model was written, after the whole training run. And a writer killed during
 * an earlier model write (SIGKILL, power loss) leaves its temporary file
 * (".model_algo-1.tmp-XXXXXX", io/atomic_file.h) behind, which SageMaker would
 * upload with the model.
 *
 * smg_model_dir_prepare creates the folder if needed, removes such stale
 * temporary files (only names of that exact shape: a leading ".model_", then
 * ".tmp-" and six characters), and proves the folder can take a file by
 * writing, syncing and removing a small probe. A folder that cannot is a
 * ClientError naming it and the reason (read-only file system, no space,
 * permission denied), before any data is read.
 */
#ifndef SMG_MODEL_DIR_H
#define SMG_MODEL_DIR_H

#include <stdbool.h>

#include "io/base/status.h"

/* Bytes the probe writes: enough to hit ENOSPC on a full file system. */
#define SMG_MODEL_DIR_PROBE_BYTES 4096

/* cleanup: remove stale temporary model files (one process per host should). */
SMG_MUST_CHECK enum smg_status smg_model_dir_prepare(const char *model_dir, bool cleanup,
                                                     struct smg_error *err);

/* Whether name is a temporary model file as atomic_file.c names them. */
bool smg_model_dir_is_stale_temp(const char *name);

#endif
