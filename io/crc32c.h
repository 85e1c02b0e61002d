/*
 * CRC32C (Castagnoli, the checksum of iSCSI, ext4 and Google's record
 * formats): what a checkpoint file's trailer holds, so a torn or corrupted
 * checkpoint is detected before anything in it is trusted. Uses the SSE4.2
 * crc32 instruction when the CPU has it and a byte table otherwise; both give
 * the same value (crc32c("123456789") = 0xE3069283).
 */
#ifndef SMG_CRC32C_H
#define SMG_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue crc (0 to start) over len bytes of data. */
uint32_t smg_crc32c(uint32_t crc, const void *data, size_t len);

#endif
