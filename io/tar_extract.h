/*
 * Unpacking model.tar.gz into a model folder, as SageMaker hosting does
 * before it starts a container: the regular files of a (gzip-compressed or
 * plain) ustar/GNU tar archive are written into dir under their base names.
 * Only flat names are accepted ("model_algo-1", "./model_algo-1"): a member
 * with '/' inside, "..", or an absolute path is an SMG_EFORMAT error, so an
 * archive can never write outside dir. Folders ("./") and pax/GNU metadata
 * members are skipped; links and devices are refused. Each file is written
 * whole to a temporary name and renamed, so a truncated archive leaves no
 * half-written model. Header checksums are verified; sizes are bounded by
 * SMG_TAR_MEMBER_MAX.
 */
#ifndef SMG_TAR_EXTRACT_H
#define SMG_TAR_EXTRACT_H

#include <stdint.h>

#include "io/base/status.h"
#include "io/stream.h"

#define SMG_TAR_MEMBER_MAX ((uint64_t)64 << 30)

/* Unpack in (gzip detected; takes ownership) into dir. *files counts the files written. */
SMG_MUST_CHECK enum smg_status smg_tar_extract(struct smg_stream *in, const char *dir,
                                               unsigned *files, struct smg_error *err);

#endif
