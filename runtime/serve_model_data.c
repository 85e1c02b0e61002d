/* Unpacking --model-data into the model folder (see serve_model_data.h). */
#include "runtime/serve_model_data.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "io/base/log.h"
#include "io/file_list.h"
#include "io/tar_extract.h"

enum smg_status smg_serve_model_data(const char *source, const char *model_dir,
                                     struct smg_error *err)
{
    struct smg_stream *in = NULL;
    unsigned files = 0;
    int rc;

    if (mkdir(model_dir, 0755) != 0 && errno != EEXIST)
        return smg_error_set(err, SMG_EIO, "cannot create the model folder %s: %s", model_dir,
                             strerror(errno));
    if ((rc = smg_file_open_sequential(source, &in, err)) != SMG_OK ||
        (rc = smg_tar_extract(in, model_dir, &files, err)) != SMG_OK) {
        smg_error_prefix(err, "--model-data %s: ", source);
        return rc;
    }
    smg_log_info("unpacked %u file%s of %s into %s", files, files == 1 ? "" : "s", source,
                 model_dir);
    return SMG_OK;
}
