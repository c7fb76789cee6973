/* Atomic, checksummed checkpoint files. */
#include "store/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define HEADER_LEN 32
static const char magic[8] = {'B', 'N', 'N', 'M', 'C', 'K', 'P', 'T'};

static uint32_t crc_of(const void *data, size_t len, uint32_t crc)
{
    const unsigned char *p = data;
    while (len > 0) { /* zlib takes lengths as uInt */
        uInt chunk = len > 1u << 30 ? 1u << 30 : (uInt)len;
        crc = (uint32_t)crc32(crc, p, chunk);
        p += chunk;
        len -= chunk;
    }
    return crc;
}

static bnn_status write_fd(int fd, const char *path, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return BNN_ERROR(BNN_EIO, "%s: write failed: %s", path, strerror(errno));
        p += k;
        len -= (size_t)k;
    }
    return BNN_OK;
}

static bnn_status sync_dir_of(const char *path)
{
    char copy[1200];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return BNN_ERROR(BNN_EIO, "%s: cannot open directory: %s", dir, strerror(errno));
    int rc = fsync(fd);
    close(fd);
    if (rc != 0) return BNN_ERROR(BNN_EIO, "%s: fsync failed: %s", dir, strerror(errno));
    return BNN_OK;
}

bnn_status bnn_ckpt_write(const char *path, const char *prev_path, const bnn_ckpt_part *parts,
                          size_t n_parts)
{
    uint64_t total = 0;
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
    for (size_t i = 0; i < n_parts; i++) {
        total += parts[i].len;
        crc = crc_of(parts[i].data, parts[i].len, crc);
    }
    unsigned char header[HEADER_LEN];
    const uint32_t version = BNN_CKPT_VERSION, mark = 0x01020304u, width = sizeof(double);
    memcpy(header, magic, 8);
    memcpy(header + 8, &version, 4);
    memcpy(header + 12, &mark, 4);
    memcpy(header + 16, &width, 4);
    memcpy(header + 20, &crc, 4);
    memcpy(header + 24, &total, 8);
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return BNN_ERROR(BNN_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    bnn_status s = write_fd(fd, tmp, header, HEADER_LEN);
    for (size_t i = 0; s == BNN_OK && i < n_parts; i++) s = write_fd(fd, tmp, parts[i].data, parts[i].len);
    if (s == BNN_OK && fsync(fd) != 0) s = BNN_ERROR(BNN_EIO, "%s: fsync failed: %s", tmp, strerror(errno));
    if (close(fd) != 0 && s == BNN_OK) s = BNN_ERROR(BNN_EIO, "%s: close failed: %s", tmp, strerror(errno));
    /* The newest checkpoint stays in place until the new one replaces it atomically: the old
     * one becomes prev by a hard link, never by a rename that would leave no checkpoint.bin. */
    if (s == BNN_OK && prev_path && unlink(prev_path) != 0 && errno != ENOENT)
        s = BNN_ERROR(BNN_EIO, "cannot remove %s: %s", prev_path, strerror(errno));
    if (s == BNN_OK && prev_path && link(path, prev_path) != 0 && errno != ENOENT)
        s = BNN_ERROR(BNN_EIO, "cannot link %s to %s: %s", path, prev_path, strerror(errno));
    if (s == BNN_OK && rename(tmp, path) != 0)
        s = BNN_ERROR(BNN_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    if (s != BNN_OK) {
        unlink(tmp);
        return s;
    }
    return sync_dir_of(path);
}

bnn_status bnn_ckpt_read(const char *path, void **payload, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return BNN_ERROR(BNN_EIO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char header[HEADER_LEN];
    uint32_t version = 0, mark = 0, width = 0, crc = 0;
    uint64_t total = 0;
    bnn_status s = BNN_OK;
    if (fread(header, 1, HEADER_LEN, f) != HEADER_LEN) {
        s = BNN_ERROR(BNN_EFORMAT, "%s: truncated header (fewer than %d bytes)", path, HEADER_LEN);
    } else {
        memcpy(&version, header + 8, 4);
        memcpy(&mark, header + 12, 4);
        memcpy(&width, header + 16, 4);
        memcpy(&crc, header + 20, 4);
        memcpy(&total, header + 24, 8);
        if (memcmp(header, magic, 8) != 0)
            s = BNN_ERROR(BNN_EFORMAT, "%s: offset 0: not a bnnmc checkpoint (bad magic)", path);
        else if (version != BNN_CKPT_VERSION)
            s = BNN_ERROR(BNN_EFORMAT, "%s: offset 8: checkpoint format version %u, this bnnmc "
                                       "reads version %u", path, version, BNN_CKPT_VERSION);
        else if (mark != 0x01020304u || width != sizeof(double))
            s = BNN_ERROR(BNN_EFORMAT, "%s: offset 12: written on a machine with another byte "
                                       "order or float width", path);
    }
    struct stat st;
    if (s == BNN_OK && (fstat(fileno(f), &st) != 0 || (uint64_t)st.st_size != HEADER_LEN + total))
        s = BNN_ERROR(BNN_EFORMAT, "%s: offset 24: payload of %llu bytes announced, file holds "
                                   "%lld", path, (unsigned long long)total,
                      (long long)st.st_size - HEADER_LEN);
    void *buf = NULL;
    if (s == BNN_OK && !(buf = malloc(total ? total : 1)))
        s = BNN_ERROR(BNN_ENOMEM, "%s: out of memory for %llu bytes", path, (unsigned long long)total);
    if (s == BNN_OK && fread(buf, 1, total, f) != total)
        s = BNN_ERROR(BNN_EIO, "%s: read failed", path);
    if (s == BNN_OK && crc_of(buf, total, (uint32_t)crc32(0L, Z_NULL, 0)) != crc)
        s = BNN_ERROR(BNN_EFORMAT, "%s: offset %d: checksum mismatch, the checkpoint is corrupt",
                      path, HEADER_LEN);
    fclose(f);
    if (s != BNN_OK) {
        free(buf);
        return s;
    }
    *payload = buf;
    *len = total;
    return BNN_OK;
}

bnn_status bnn_ckpt_take(bnn_ckpt_cursor *c, void *dst, size_t len)
{
    if (len > c->len - c->pos)
        return BNN_ERROR(BNN_EFORMAT, "%s: offset %zu: checkpoint ends early (%zu bytes wanted)",
                         c->path, HEADER_LEN + c->pos, len);
    memcpy(dst, c->data + c->pos, len);
    c->pos += len;
    return BNN_OK;
}

bnn_status bnn_ckpt_take_rest(bnn_ckpt_cursor *c, const bnn_ckpt_part *parts, size_t n_parts)
{
    for (size_t i = 0; i < n_parts; i++)
        BNN_TRY(bnn_ckpt_take(c, (void *)parts[i].data, parts[i].len));
    if (c->pos != c->len)
        return BNN_ERROR(BNN_EFORMAT, "%s: offset %zu: %zu unexpected bytes after the chain state",
                         c->path, HEADER_LEN + c->pos, c->len - c->pos);
    return BNN_OK;
}

bnn_status bnn_ckpt_open(const char *path, void *head, size_t head_len, bnn_ckpt_cursor *c)
{
    void *payload;
    size_t len;
    *c = (bnn_ckpt_cursor){.path = path};
    BNN_TRY(bnn_ckpt_read(path, &payload, &len));
    *c = (bnn_ckpt_cursor){.path = path, .data = payload, .len = len};
    bnn_status s = bnn_ckpt_take(c, head, head_len);
    if (s != BNN_OK) bnn_ckpt_close(c);
    return s;
}

void bnn_ckpt_close(bnn_ckpt_cursor *c)
{
    free((void *)c->data);
    c->data = NULL;
    c->len = c->pos = 0;
}
