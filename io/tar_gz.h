/*
 * Writing model.tar.gz as SageMaker does: a gzip-compressed POSIX ustar
 * archive of the regular files at the top of a folder (model_algo-1, ...),
 * at the archive's root, in name order, mode 0644, mtime of the file.
 *
 * Each member: a 512-byte ustar header (name[100] mode[8] uid[8] gid[8]
 * size[12] mtime[12] chksum[8] typeflag[1] linkname[100] "ustar\0" "00"
 * uname[32] gname[32] ...; numbers in octal, NUL-terminated), the data, zero
 * padding to a multiple of 512; the archive ends with two zero blocks.
 */
#ifndef SMG_TAR_GZ_H
#define SMG_TAR_GZ_H

#include "io/base/status.h"

/* Archive the top-level regular files of dir into out_path (written whole, then renamed). */
SMG_MUST_CHECK enum smg_status smg_tar_gz_write_dir(const char *dir, const char *out_path,
                                                    struct smg_error *err);

#endif
