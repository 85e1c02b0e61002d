/*
 * `smalgo serve --model-data s3://.../model.tar.gz` (or a local model.tar.gz):
 * what SageMaker hosting does before it starts a container, unpacking the
 * model archive into the model folder (io/tar_extract.h), which is created if
 * needed. The archive is streamed, never held in memory whole.
 */
#ifndef SMG_SERVE_MODEL_DATA_H
#define SMG_SERVE_MODEL_DATA_H

#include "io/base/status.h"

SMG_MUST_CHECK enum smg_status smg_serve_model_data(const char *source, const char *model_dir,
                                                    struct smg_error *err);

#endif
