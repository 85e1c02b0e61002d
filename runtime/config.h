/*
 * The job's view of input/config/inputdataconfig.json (channels) and
 * input/config/resourceconfig.json (hosts), with the defaults of a local run
 * when a file is absent: channels are the folders under input/data/, in File
 * mode, with the content type guessed from file names (.csv: text/csv, else
 * recordIO-protobuf); one host, algo-1. The host name always comes from the
 * file, never from gethostname(): inside SageMaker's containers the kernel
 * host name is not algo-N.
 */
#ifndef SMG_CONFIG_H
#define SMG_CONFIG_H

#include "io/base/status.h"
#include "runtime/job.h"

/*
 * Fill job->channels from inputdataconfig.json text (source names the file in
 * messages). Unknown keys are ignored; a known key with a value we cannot
 * honour is an SMG_ECONFIG error naming channel, key, value and what is
 * allowed.
 */
SMG_MUST_CHECK enum smg_status smg_config_parse_channels(struct smg_job *job, const char *text,
                                                         const char *source, struct smg_error *err);

/* No inputdataconfig.json: one File-mode channel per folder under job->data_dir. */
SMG_MUST_CHECK enum smg_status smg_config_scan_channels(struct smg_job *job, struct smg_error *err);

/* Fill current_host, hosts and network_interface from resourceconfig.json text. */
SMG_MUST_CHECK enum smg_status smg_config_parse_resources(struct smg_job *job, const char *text,
                                                          const char *source,
                                                          struct smg_error *err);

/* No resourceconfig.json: one host, algo-1. */
SMG_MUST_CHECK enum smg_status smg_config_default_resources(struct smg_job *job,
                                                            struct smg_error *err);

/*
 * Read both files under <job->root>/input/config/, applying the defaults
 * above (and logging that it did) when a file does not exist.
 */
SMG_MUST_CHECK enum smg_status smg_config_load(struct smg_job *job, struct smg_error *err);

#endif
