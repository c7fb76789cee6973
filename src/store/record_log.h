/* The record log of a chain: one fixed-size, checksummed record per iteration that says where
 * that iteration's rows live in the chain's .npy arrays and what their CRC-32 is, so that any
 * damage to a stored draw — a torn tail after a crash or a flipped bit years later — is found
 * and named (bnnmc verify), not silently analysed.
 *
 * File layout (little-endian on the machines we build for; the header says which):
 *   bytes 0-7   magic "BNNMCLOG"
 *   8-11        format version (uint32, 1)
 *   12-15       endianness mark 0x01020304
 *   16-19       bytes per floating-point number (uint32, 8)
 *   20-23       flags (uint32): BNN_LOG_FLAG_HYPER, or 0 (logs written before it: 0)
 *   24-31       reserved (zero)
 *   then records of BNN_LOG_RECORD_BYTES bytes: uint32 payload length (48), uint32 CRC-32 of
 *   the payload, payload = bnn_log_record. */
#ifndef BNN_STORE_RECORD_LOG_H
#define BNN_STORE_RECORD_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

#define BNN_LOG_VERSION 1u
#define BNN_LOG_HEADER_BYTES 32
#define BNN_LOG_RECORD_BYTES 56

/* The chain has hyperparameters (hyper.npy, one row per iteration, like stats.npy): each
 * record's stats_crc is the CRC-32 of the stats row followed by the hyper.npy row of the same
 * index, so that both are checked. */
#define BNN_LOG_FLAG_HYPER 1u

/* Which array an iteration's function-space row went to. */
enum { BNN_LOG_FS_WARMUP = 0, BNN_LOG_FS_SAMPLING = 1 };

typedef struct {
    uint64_t iteration;
    uint64_t stats_row;     /* row of stats.npy */
    uint64_t weights_row;   /* row of weights.npy, or UINT64_MAX when not recorded (thinning) */
    uint64_t fs_row;        /* row of fs.npy or warmup_fs.npy (see fs_array) */
    uint32_t stats_crc, weights_crc, fs_crc;
    uint32_t fs_array;      /* BNN_LOG_FS_WARMUP or BNN_LOG_FS_SAMPLING */
} bnn_log_record;

typedef struct {
    int fd;
    char path[1024];
    uint64_t n_records;
    uint32_t flags; /* of the header: what its records cover */
} bnn_record_log;

/* Creates (truncates) a log whose header carries flags. */
bnn_status bnn_log_open(bnn_record_log *log, const char *path, uint32_t flags);

/* Reopens a log for appending after its first n_records records (cutting away the rest); its
 * flags are read from the header, so a resumed chain keeps writing what its log says. */
bnn_status bnn_log_reopen(bnn_record_log *log, const char *path, uint64_t n_records);

bnn_status bnn_log_append(bnn_record_log *log, const bnn_log_record *rec);
bnn_status bnn_log_flush(bnn_record_log *log); /* fsync */
bnn_status bnn_log_close(bnn_record_log *log);

/* CRC-32 (zlib's) of n bytes. */
uint32_t bnn_crc32(const void *data, size_t n);

/* CRC-32 of A followed by B from crc_a = CRC-32 of A, crc_b of B and B's length. */
uint32_t bnn_crc32_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b);

/* Checks a chain's log and every row it names in the chain directory's arrays. Returns BNN_OK
 * with *n_records checked, or BNN_EFORMAT naming the first damaged record or row (file and
 * byte offset). A log that ends in a partial record is reported too. */
bnn_status bnn_log_verify(const char *chain_dir, uint64_t *n_records);

#endif
