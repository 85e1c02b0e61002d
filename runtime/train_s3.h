/*
 * `smalgo train` outside SageMaker with data and output in S3:
 *   --channel NAME=s3://bucket/prefix/  lists the prefix and writes a SageMaker
 *       manifest of its objects to <data>/NAME/.smalgo-s3-channel.manifest,
 *       which the channel reader then streams (io/s3/s3_manifest.h), so the
 *       rest of training sees an ordinary File-mode channel;
 *   --output s3://bucket/prefix/  after a successful run, archives the model
 *       folder as model.tar.gz and uploads it to
 *       <prefix>/<job>/output/model.tar.gz, as SageMaker lays it out (job from
 *       --job-name, else TRAINING_JOB_NAME, else smalgo-<UTC time>).
 */
#ifndef SMG_TRAIN_S3_H
#define SMG_TRAIN_S3_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/status.h"

#define SMG_TRAIN_S3_MAX_CHANNELS 8

struct smg_train_s3 {
    const char *names[SMG_TRAIN_S3_MAX_CHANNELS];
    const char *uris[SMG_TRAIN_S3_MAX_CHANNELS];
    size_t n;
    const char *output; /* s3://... or NULL */
    const char *job_name;
};

/* Add "NAME=s3://..." (split in place). False when malformed or too many. */
bool smg_train_s3_add_channel(struct smg_train_s3 *s, char *arg);

/* Write each channel's manifest under data_dir (creating NAME/ folders). */
SMG_MUST_CHECK enum smg_status smg_train_s3_channels(const struct smg_train_s3 *s,
                                                     const char *data_dir, struct smg_error *err);

/* Archive model_dir to output_dir/model.tar.gz and upload it to s->output. */
SMG_MUST_CHECK enum smg_status smg_train_s3_upload(const struct smg_train_s3 *s,
                                                   const char *model_dir, const char *output_dir,
                                                   struct smg_error *err);

#endif
