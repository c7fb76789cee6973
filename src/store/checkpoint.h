/* Checkpoint files: one checksummed record holding a chain's whole sampler state, replaced
 * atomically (temporary file, fsync, rename, fsync of the directory), so that the file on disk
 * is always the last complete checkpoint.
 *
 * Layout (little-endian on the machines we build for; the header says which):
 *   bytes 0-7   magic "BNNMCKPT"
 *   8-11        format version (uint32, currently 1)
 *   12-15       endianness mark 0x01020304 as written by the writer
 *   16-19       bytes per floating-point number (uint32, 8)
 *   20-23       CRC-32 (zlib) of the payload
 *   24-31       payload length in bytes (uint64)
 *   32-         payload */
#ifndef BNN_STORE_CHECKPOINT_H
#define BNN_STORE_CHECKPOINT_H

#include <stddef.h>

#include "core/status.h"

#define BNN_CKPT_VERSION 1u

typedef struct {
    const void *data;
    size_t len;
} bnn_ckpt_part;

/* Writes the concatenation of parts as the payload of a new checkpoint at path. The checkpoint
 * it replaces is kept as prev_path (if not NULL), to fall back on if the new one is damaged. */
bnn_status bnn_ckpt_write(const char *path, const char *prev_path, const bnn_ckpt_part *parts,
                          size_t n_parts);

/* Reads and checks a checkpoint (magic, version, endianness, float width, length, CRC); the
 * payload is returned in a new buffer. BNN_EIO if the file does not exist. */
bnn_status bnn_ckpt_read(const char *path, void **payload, size_t *len);

/* A cursor over a payload: each take copies len bytes or fails with a message naming the path
 * and the offset. */
typedef struct {
    const char *path;
    const unsigned char *data;
    size_t len, pos;
} bnn_ckpt_cursor;

bnn_status bnn_ckpt_take(bnn_ckpt_cursor *c, void *dst, size_t len);

/* Reads and checks the checkpoint at path (as bnn_ckpt_read) and takes the first head_len
 * bytes of its payload, the fixed-size part that says what follows, into head; c is left over
 * the rest. bnn_ckpt_close frees what c holds. */
bnn_status bnn_ckpt_open(const char *path, void *head, size_t head_len, bnn_ckpt_cursor *c);
void bnn_ckpt_close(bnn_ckpt_cursor *c);

/* Takes every part in turn into its data (the writer's list of parts, read back) and fails if
 * the payload holds more than that. */
bnn_status bnn_ckpt_take_rest(bnn_ckpt_cursor *c, const bnn_ckpt_part *parts, size_t n_parts);

#endif
